from django.core.management import call_command


def test_collectstatic_with_hashed_compressed_names_succeeds(tmp_path, settings):
    """`make run` and production collect static files this way; a missing source map breaks it."""
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    call_command("collectstatic", "--noinput", verbosity=0)
    manifest = (tmp_path / "staticfiles.json").read_text()
    assert "vendor/bootstrap/bootstrap.min.css" in manifest
    assert any(tmp_path.rglob("bootstrap.min.*.css.gz"))
