import pytest

from onewindow.core.models import Region


@pytest.mark.django_db
def test_region_roundtrip():
    Region.objects.create(code="520000", name="贵州省", level=1, path="520000/")
    assert Region.objects.get(code="520000").name == "贵州省"
