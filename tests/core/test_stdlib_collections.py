import collections
import sysconfig
from pathlib import Path

from django.apps import apps


def test_import_collections_is_the_standard_library_module():
    stdlib = Path(sysconfig.get_paths()["stdlib"]).resolve()
    assert Path(collections.__file__).resolve().is_relative_to(stdlib)
    assert hasattr(collections, "namedtuple")


def test_collections_app_is_installed_under_its_label_from_the_debt_collection_package():
    config = apps.get_app_config("collections")
    assert config.name == "debt_collection"
    assert config.verbose_name == "Collections"
