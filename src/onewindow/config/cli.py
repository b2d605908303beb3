"""The `onewindow` command: Django's management commands with the settings preset.

    onewindow serve          migrate, collect static, run the ASGI server
    onewindow demo           load the demo data (idempotent)
    onewindow worker         background tasks and periodic sweeps
    onewindow audit verify   check the audit ledger
"""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "onewindow.config.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["onewindow", *sys.argv[1:]])


if __name__ == "__main__":
    main()
