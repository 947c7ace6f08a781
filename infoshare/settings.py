"""Infoshare settings: one module, every deployment choice read from the environment.

The defaults are the secure ones. `make run` sets DEBUG=true for a developer's
machine; anything else (tests, production) runs with DEBUG off, which requires
SECRET_KEY and turns on HTTPS-only cookies, HSTS and the second factor.
See README.md for every variable.
"""

import os
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from infoshare.transfers.crypto import decode_key

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
# A developer's machine keeps its choices in .env (git-ignored; `make run`
# writes DEBUG=true there). Variables already in the environment win.
environ.Env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "insecure-development-key-only-used-when-debug-is-on-4f1c2a"

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.forms",  # its widget templates, which templates/django/forms overrides in part
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "rules.apps.AutodiscoverRulesConfig",
    "django_htmx",
    "infoshare.core",
    "infoshare.audit",
    "infoshare.decisions",
    "infoshare.proposals",
    "infoshare.governance",
    "infoshare.agreements",
    "infoshare.safeguarding",
    "infoshare.statutory",
    "infoshare.anonymise",
    "infoshare.transfers",
    "infoshare.reminders",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "infoshare.core.middleware.ContentSecurityPolicyMiddleware",
    "infoshare.core.middleware.RequireSecondFactorMiddleware",
]

ROOT_URLCONF = "infoshare.urls"
WSGI_APPLICATION = "infoshare.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "infoshare" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "infoshare.core.context_processors.navigation",
            ],
        },
    },
]
# Project templates override Django's form widgets with GOV.UK Frontend markup.
FORM_RENDERER = "infoshare.core.forms.GovukFormRenderer"

# --- Database -----------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'infoshare.sqlite3'}")
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        # IMMEDIATE takes the write lock at BEGIN, so concurrent writers queue
        # instead of failing with "database is locked" on upgrade.
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # var/ is git-ignored, so a clean clone lacks it; SQLite will not create it.
    VAR_DIR.mkdir(exist_ok=True)
    # A file, not memory, so that threads and the live server share it; one
    # per test run, so that runs side by side do not collide.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}

# --- Authentication ---------------------------------------------------------------
AUTH_USER_MODEL = "core.User"
AUTHENTICATION_BACKENDS = [
    "rules.permissions.ObjectPermissionBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "core:home"
# An invitation link stays valid for seven days.
PASSWORD_RESET_TIMEOUT = 7 * 24 * 3600

ACCOUNT_ADAPTER = "infoshare.core.adapters.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
# Accounts are created by invitation, whose link proves the address.
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"
ACCOUNT_RATE_LIMITS = {
    "login_failed": "10/m/ip,5/5m/key",
    "reset_password": "20/m/ip,5/m/key",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Infoshare"

# Headteacher, chair, DPO, DSL and deputy DSL need a second factor.
INFOSHARE_REQUIRE_MFA = env.bool("INFOSHARE_REQUIRE_MFA", default=not DEBUG)

# --- Sessions and transport security --------------------------------------------------
SESSION_IDLE_MINUTES = env.int("SESSION_IDLE_MINUTES", default=30)
SESSION_COOKIE_AGE = SESSION_IDLE_MINUTES * 60
SESSION_SAVE_EVERY_REQUEST = True  # the expiry counts from the last request
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env.bool("BEHIND_PROXY", default=False):
    # Only behind a proxy that sets this header itself and strips a client's.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    USE_X_FORWARDED_HOST = True

# --- Email ------------------------------------------------------------------------
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Infoshare <infoshare@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Where people reach this service; links in emails start with it.
BASE_URL = env.str("BASE_URL", default="http://127.0.0.1:8000")

# --- Internationalisation ---------------------------------------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True
# How dates read (22 November 2026) is set per locale in infoshare/formats/en_GB.
FORMAT_MODULE_PATH = ["infoshare.formats"]

# --- Static files -------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "infoshare" / "static"]
# Uploaded documents (signed agreements, disposal certificates). Never served
# as static files: each is downloaded through a view that checks who asks.
MEDIA_ROOT = env.path("MEDIA_ROOT", default=VAR_DIR / "media")

# Anonymising datasets (issue 8). Pseudonymisation keys are derived from this secret
# (or SECRET_KEY when it is empty) for each proposal or decision; set it so that
# rotating SECRET_KEY does not change the tokens of later exports under one agreement.
INFOSHARE_ANONYMISE_SECRET = env.str("INFOSHARE_ANONYMISE_SECRET", default="")
# Files with more rows than this are applied in the background, with a progress bar.
INFOSHARE_ANONYMISE_BACKGROUND_ROWS = env.int("INFOSHARE_ANONYMISE_BACKGROUND_ROWS", default=50_000)
FILE_UPLOAD_PERMISSIONS = 0o600

# Secure transfers (issue 9). Each transfer's key is wrapped by this master key:
# 32 random bytes, base64 (make one with `python -c "import base64, os;
# print(base64.urlsafe_b64encode(os.urandom(32)).decode())"`). Keep it out of the
# database's backups: whoever has both can read every live transfer. Without it
# the application refuses to start, except on a developer's machine (DEBUG),
# where a fixed development key stands in.
INFOSHARE_MASTER_KEY = env.str("INFOSHARE_MASTER_KEY", default="")
if not INFOSHARE_MASTER_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("INFOSHARE_MASTER_KEY must be set when DEBUG is off.")
    INFOSHARE_MASTER_KEY = "ZGV2ZWxvcG1lbnQtb25seS1tYXN0ZXIta2V5LTAwMDA="
try:
    decode_key(INFOSHARE_MASTER_KEY)
except ValueError as problem:
    raise ImproperlyConfigured(f"INFOSHARE_MASTER_KEY: {problem}") from None
# The largest file a transfer takes, and how many files one transfer may carry.
INFOSHARE_TRANSFER_MAX_BYTES = env.int("INFOSHARE_TRANSFER_MAX_BYTES", default=100 * 1024 * 1024)
INFOSHARE_TRANSFER_MAX_FILES = env.int("INFOSHARE_TRANSFER_MAX_FILES", default=10)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or not env.bool("STATIC_MANIFEST", default=True)
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
