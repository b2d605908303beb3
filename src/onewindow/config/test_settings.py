"""Settings for the test suite: the production settings with plain HTTP and a throw-away data folder."""

import os
import tempfile

os.environ.setdefault("ONEWINDOW_HTTPS", "0")
os.environ.setdefault("ONEWINDOW_DATA_DIR", os.path.join(tempfile.gettempdir(), "onewindow-test"))

from onewindow.config.settings import *  # noqa: E402,F403
from onewindow.config.settings import PASSWORD_HASHERS  # noqa: E402

# Argon2 stays the production hasher (tested in accounts); tests hash fast.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405

STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405  (whitenoise expects it)
