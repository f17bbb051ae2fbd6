import pytest

from shared.atomic_write import atomic_write


def test_the_file_appears_whole_when_the_block_ends(tmp_path):
    path = tmp_path / "CURRENT"
    with atomic_write(path, "w", encoding="utf-8") as file:
        file.write("v000002")
        assert not path.exists()  # nobody reads half of it meanwhile
    assert path.read_text(encoding="utf-8") == "v000002"
    assert [child.name for child in tmp_path.iterdir()] == ["CURRENT"]


def test_a_failure_keeps_the_old_file_and_leaves_no_temporary_file(tmp_path):
    path = tmp_path / "offer.png"
    path.write_bytes(b"old")
    with pytest.raises(OSError, match="disk full"):
        with atomic_write(path) as file:
            file.write(b"half a n")
            raise OSError("disk full")
    assert path.read_bytes() == b"old"
    assert [child.name for child in tmp_path.iterdir()] == ["offer.png"]
