"""The JSON export's console_url, for both service ARN formats."""

from __future__ import annotations

from heartbeat_tui.export import service_dict
from tests.support.factory import FIXED_NOW, make_service


def test_console_url_of_new_and_old_format_service_arns() -> None:
    end = int(FIXED_NOW.timestamp())
    service = make_service("210987654321", "eu-west-1", "core", 7, end=end, minutes=10)
    assert service.arn.endswith(":service/core/" + service.name)
    url = (
        f"https://eu-west-1.console.aws.amazon.com/ecs/v2/clusters/core/services/{service.name}/health?region=eu-west-1"
    )
    assert service_dict(service, FIXED_NOW)["console_url"] == url
    # The old format has no cluster in the ARN: the service's cluster ARN names it.
    old = service.model_copy(update={"arn": f"arn:aws:ecs:eu-west-1:210987654321:service/{service.name}"})
    assert service_dict(old, FIXED_NOW)["console_url"] == url
    # Neither: null, as documented.
    odd = service.model_copy(update={"arn": "arn:aws:ecs:eu-west-1:210987654321:service/x/y/z"})
    assert service_dict(odd, FIXED_NOW)["console_url"] is None
