#!/usr/bin/env python
from onewindow.config.cli import main

if __name__ == "__main__":
    main()
