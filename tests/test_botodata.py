"""botocore's data files read with orjson give what botocore's own reader gives."""

from __future__ import annotations

import pytest
from botocore.loaders import JSONFileLoader, Loader

from heartbeat_tui.aws.access import AwsAccess
from heartbeat_tui.botodata import OrjsonFileLoader, use_orjson
from heartbeat_tui.config import Config, EnvSettings, FileConfig


@pytest.mark.parametrize(
    ("type_name", "service"),
    [("service-2", "ecs"), ("service-2", "cloudwatch"), ("endpoint-rule-set-1", "dynamodb"), ("paginators-1", "ecs")],
)
def test_same_models_as_botocore(type_name: str, service: str) -> None:
    plain, fast = Loader(), Loader(file_loader=OrjsonFileLoader())
    expected = plain.load_service_model(service, type_name)
    assert fast.load_service_model(service, type_name) == expected
    assert fast.load_data("endpoints") == plain.load_data("endpoints")  # a .json.gz file
    assert fast.file_loader.load_file("/nonexistent/path") is None


def test_the_collectors_loader_reads_with_orjson() -> None:
    config = Config(source="test", file=FileConfig(), env=EnvSettings(_env_file=None))  # type: ignore[call-arg]
    access = AwsAccess(config)
    loader = access._base.get_component("data_loader")
    assert isinstance(loader.file_loader, OrjsonFileLoader)
    other = Loader(file_loader=object())  # not botocore's reader: left alone
    use_orjson(other)
    assert not isinstance(other.file_loader, JSONFileLoader)
