"""OneWindow settings, all from the environment.

DATABASE_URL      default: SQLite file in the data folder (WAL, busy timeout)
REDIS_URL         optional: cache, channel layer and RQ task backend
SECRET_KEY        default: generated once into the data folder
ONEWINDOW_DATA_DIR  where the database, uploads, keys and the ledger witness live
ONEWINDOW_DEBUG   "1" for development; production mode is the default
ONEWINDOW_PUBLIC_URL  the platform's public address (https://...), printed as QR codes on documents
"""

from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

from onewindow.config.env import env_bool, env_list, env_str, load_or_create_secret

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env_str("ONEWINDOW_DATA_DIR", str(Path.cwd() / "var"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("ONEWINDOW_DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY", "") or load_or_create_secret(DATA_DIR / "secret_key")
# Documents printed outside a request (the worker, the CLI) link their QR codes here.
ONEWINDOW_PUBLIC_URL = env_str("ONEWINDOW_PUBLIC_URL", "")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "onewindow.config.admin_site.AdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "django_tasks",
    "django_tasks_db",
    "channels",
    "onewindow.core",
    "onewindow.accounts",
    "onewindow.catalogue",
    "onewindow.cases",
    "onewindow.hall",
    "onewindow.licences",
    "onewindow.supervision",
    "onewindow.analytics",
    "onewindow.evaluation",
    "onewindow.complaints",
    "onewindow.publicity",
    "onewindow.smart",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "onewindow.core.middleware.ApiLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "onewindow.accounts.middleware.SessionLifetimeMiddleware",
    "onewindow.core.middleware.ContentSecurityPolicyMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
    "onewindow.core.middleware.RequestContextMiddleware",
]

ROOT_URLCONF = "onewindow.config.urls"
WSGI_APPLICATION = "onewindow.config.wsgi.application"
ASGI_APPLICATION = "onewindow.config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "onewindow.core.context_processors.shell",
            ],
        },
    },
]

# --- database -----------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{DATA_DIR / 'onewindow.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets readers run beside the one writer; IMMEDIATE takes the write lock
        # at BEGIN so concurrent writers queue on the busy timeout instead of failing.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test_onewindow.sqlite3")}
    # Each request thread keeps its connection: opening one (and its pragmas) for every request
    # cost more than the public lookups themselves.
    DATABASES["default"]["CONN_MAX_AGE"] = None
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Each process keeps a pool, so a request borrows a connection instead of opening one
    # (under ASGI, Django's persistent connections are not an option; its docs point here).
    # Parameters bound by the server, and a statement a connection has run 5 times prepared: the
    # same reads and writes recur on every request, and planning them each time (the case read
    # with its joins, the token read) cost PostgreSQL more than running them.
    DATABASES["default"].setdefault("OPTIONS", {}).update(server_side_binding=True, prepare_threshold=5)
    DATABASES["default"]["OPTIONS"]["pool"] = {
        "min_size": 1,
        "max_size": int(env_str("ONEWINDOW_DB_POOL_SIZE", "8")),
        "timeout": 10,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Threads per server process that handle HTTP requests (config/asgi.py); each may hold one
# connection of the pool above while it works.
HTTP_THREADS = int(env_str("ONEWINDOW_HTTP_THREADS", "8"))

# --- redis (optional) ---------------------------------------------------------
REDIS_URL = env_str("REDIS_URL", "")
TASK_QUEUES = ["default", "notifications", "sweeps"]
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [REDIS_URL]}}
    }
    RQ_QUEUES = {name: {"URL": REDIS_URL} for name in TASK_QUEUES}
else:
    # Room for the rendered guides of the most visited items (about 25 KB each).
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "OPTIONS": {"MAX_ENTRIES": 2000}}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

TASK_BACKEND = env_str("ONEWINDOW_TASK_BACKEND", "rq" if REDIS_URL else "database")
TASKS = {
    "default": {
        "BACKEND": {
            "database": "django_tasks_db.DatabaseBackend",
            "rq": "django_tasks_rq.RQBackend",
            "immediate": "django_tasks.backends.immediate.ImmediateBackend",
        }[TASK_BACKEND],
        "QUEUES": TASK_QUEUES,
    }
}
if TASK_BACKEND == "rq":
    INSTALLED_APPS += ["django_rq", "django_tasks_rq"]

# --- identity and security ----------------------------------------------------
# A service guide is edited in one form: two file inputs per material and many list rows.
DATA_UPLOAD_MAX_NUMBER_FILES = 500
DATA_UPLOAD_MAX_NUMBER_FIELDS = 5000

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "core:home"

# Lockout after repeated failures (django-axes): per username and per IP.
AXES_FAILURE_LIMIT = int(env_str("ONEWINDOW_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = float(env_str("ONEWINDOW_LOGIN_COOLOFF_HOURS", "0.25"))
AXES_LOCKOUT_PARAMETERS = [["username"], ["ip_address", "username"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "onewindow.accounts.views.lockout_response"
AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]
AXES_ENABLE_ADMIN = True

# Sessions: rotated at login by django.contrib.auth; idle expiry via SESSION_COOKIE_AGE
# renewed on every request, absolute lifetime enforced by SessionLifetimeMiddleware.
SESSION_COOKIE_AGE = int(env_str("ONEWINDOW_SESSION_IDLE_SECONDS", str(30 * 60)))
SESSION_SAVE_EVERY_REQUEST = True
SESSION_ABSOLUTE_SECONDS = int(env_str("ONEWINDOW_SESSION_ABSOLUTE_SECONDS", str(12 * 3600)))
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
OTP_TOTP_ISSUER = "OneWindow 一网通办"

HTTPS = env_bool("ONEWINDOW_HTTPS", not DEBUG)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS and env_bool("ONEWINDOW_SSL_REDIRECT", True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if HTTPS else None
SECURE_HSTS_SECONDS = 31536000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Templates carry no inline script or style, so a strict policy holds everywhere.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'self'"
)

# --- files --------------------------------------------------------------------
MEDIA_ROOT = DATA_DIR / "files"
UPLOAD_MAX_BYTES = int(env_str("ONEWINDOW_UPLOAD_MAX_BYTES", str(20 * 1024 * 1024)))
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_PERMISSIONS = 0o640

# --- notifications ------------------------------------------------------------
NOTIFICATION_CHANNELS = {
    "inbox": "onewindow.core.notifications.InboxChannel",
    "sms": env_str("ONEWINDOW_SMS_CHANNEL", "onewindow.core.notifications.OutboxSmsChannel"),
    "email": env_str("ONEWINDOW_EMAIL_CHANNEL", "onewindow.core.notifications.EmailChannel"),
}
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "noreply@onewindow.local")

# --- audit ledger ---------------------------------------------------------------
AUDIT_SIGNING_KEY_FILE = DATA_DIR / "ledger_ed25519.pem"
AUDIT_WITNESS_FILE = DATA_DIR / "ledger_heads.jsonl"

# --- electronic licences --------------------------------------------------------
# Seals the departments' private signing keys (32 random bytes, made on first use).
LICENCE_MASTER_KEY_FILE = DATA_DIR / "licence_master.key"
# Public verification by number, per client address: lookups a minute, unknown numbers an hour.
LICENCE_VERIFY_PER_MINUTE = int(env_str("ONEWINDOW_LICENCE_VERIFY_PER_MINUTE", "60"))
LICENCE_VERIFY_MISSES_PER_HOUR = int(env_str("ONEWINDOW_LICENCE_VERIFY_MISSES_PER_HOUR", "20"))

# --- i18n ---------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "Asia/Shanghai"
USE_TZ = True

# --- static -------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("ONEWINDOW_LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}
