"""People: faces found in real photos (the face kit of ../shared/photos), grouped into people
on identities the grouping rule was not chosen on, named and corrected (corrections survive a
re-grouping), searched by person and by face, kept out of opted-out folders, and forgotten
down to the bytes of the index file."""

from __future__ import annotations

import csv
import json
import random
import shutil
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

from helpers.evaluate import grouping_scores
from helpers.faces import Face, FaceFinder
from helpers.people import clusters

if TYPE_CHECKING:
    from conftest import PhotoSearch

Kit = list[tuple[Path, str, int | None, list[Face]]]  # photo, identity, faces counted, faces found


@pytest.fixture(scope="module")
def kit(photos: Path) -> Kit:
    folder = photos / "faces"
    rows = list(csv.DictReader((folder / "identities.csv").open(encoding="utf-8")))
    finder = FaceFinder()
    with ThreadPoolExecutor(2) as pool:
        found = list(pool.map(lambda row: finder.faces_in(folder / row["path"]), rows))
    return [(folder / row["path"], row["identity"], int(row["faces"]) if row["faces"] else None, faces)
            for row, faces in zip(rows, found, strict=True)]


def test_faces_are_found_and_none_where_there_is_none(kit: Kit) -> None:
    counted = sum(count for _, _, count, _ in kit if count)
    found = sum(min(len(faces), count) for _, _, count, faces in kit if count)
    assert found / counted >= 0.95, f"{found} of {counted} faces found"
    faceless = [path.name for path, identity, _, faces in kit if identity == "none" and faces]
    assert not faceless, f"faces found in photos without any: {faceless}"
    assert all(len(face.descriptor) == 128 and face.crop[:2] == b"\xff\xd8" for *_, faces in kit for face in faces)


def test_grouping_holds_on_identities_it_was_not_chosen_on(kit: Kit) -> None:
    """Six splits, each keeping half of the identities: the worst split still groups them right."""
    labelled = [(identity, faces[0].descriptor) for _, identity, _, faces in kit
                if len(faces) == 1 and ";" not in identity and identity not in ("unknown", "none")]
    identities = sorted({identity for identity, _ in labelled})
    worst = (1.0, 1.0)
    for seed in range(6):
        held = set(random.Random(seed).sample(identities, len(identities) // 2))
        chosen = [(identity, descriptor) for identity, descriptor in labelled if identity in held]
        precision, recall = grouping_scores(clusters(np.stack([d for _, d in chosen])), [i for i, _ in chosen])
        worst = (min(worst[0], precision), min(worst[1], recall))
    assert worst[0] >= 0.98 and worst[1] >= 0.95, f"worst split: precision {worst[0]:.3f}, recall {worst[1]:.3f}"


def test_clusters_link_only_close_faces() -> None:
    base = np.zeros((6, 128), dtype=np.float32)
    base[:, 0] = [0.0, 0.2, 0.4, 2.0, 2.2, 4.0]  # three close faces, two close faces, one alone
    labels = clusters(base)
    assert labels[0] == labels[1] == labels[2] and labels[3] == labels[4]
    assert len({labels[0], labels[3], labels[5]}) == 3
    assert clusters(np.zeros((0, 128), dtype=np.float32)) == []


FIRST = {"obama": ["fd_001.jpg", "fd_002.jpg", "fd_003.jpg"], "biden": ["fd_006.jpg", "fd_007.jpg"],
         "both": ["fd_008.jpg", "fd_009.jpg"], "angelina": [f"fd_0{n}.jpg" for n in range(58, 63)]}
LATER = {"obama": ["fd_004.jpg"], "angelina": ["fd_063.jpg", "fd_064.jpg"]}


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory, photos: Path, photo_search: PhotoSearch) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("people")
    folder = root / "photos"
    images = photos / "faces" / "images"
    for who, names in FIRST.items():
        (folder / who).mkdir(parents=True)
        for name in names:
            shutil.copy2(images / name, folder / who / name)
    (folder / "private" / "deeper").mkdir(parents=True)
    (folder / "private" / ".nofaces").write_text("")
    shutil.copy2(images / "fd_076.jpg", folder / "private" / "deeper" / "fd_076.jpg")
    (folder / "things").mkdir()
    for subject in ("airplanes", "pizza"):
        shutil.copy2(photos / "retrieval" / "caltech101" / subject / "image_0001.jpg",
                     folder / "things" / f"{subject}.jpg")
    done = photo_search("index", str(folder), "--index", str(root / "index"), "--model", "efficientnet-lite0",
                        "--faces")
    assert done.returncode == 0, done.stderr
    return folder, root / "index"


def _json(photo_search: PhotoSearch, *args: str) -> dict:
    done = photo_search(*args, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _people(photo_search: PhotoSearch, index: Path) -> list[dict]:
    return _json(photo_search, "people", "list", "--index", str(index))["people"]


def _person_with(people: list[dict], path: str) -> dict:
    return next(person for person in people if any(face["path"] == path for face in person["faces"]))


def _found(photo_search: PhotoSearch, index: Path, *args: str) -> list[str]:
    outcome = _json(photo_search, "search", "--index", str(index), *args, "-k", "20", "--no-collapse")
    return sorted(result["path"] for result in outcome["results"])


def test_people_are_grouped_named_and_searched(library: tuple[Path, Path], photo_search: PhotoSearch) -> None:
    index = library[1]
    people = _people(photo_search, index)
    angelina = _person_with(people, "angelina/fd_058.jpg")
    assert sorted(face["path"] for face in angelina["faces"]) == [f"angelina/{n}" for n in FIRST["angelina"]]
    assert not any(face["path"].startswith(("private/", "things/")) for person in people for face in person["faces"])
    named = _json(photo_search, "people", "name", angelina["id"], "Angelina", "--index", str(index))
    assert named["named"] == angelina["id"]
    assert _found(photo_search, index, "--person", "angelina") == [f"angelina/{n}" for n in FIRST["angelina"]]
    obama, biden = _person_with(people, "obama/fd_001.jpg"), _person_with(people, "biden/fd_006.jpg")
    assert obama["id"] != biden["id"]
    together = _found(photo_search, index, "--person", obama["id"], "--person", biden["id"])
    assert together == ["both/fd_008.jpg", "both/fd_009.jpg"]
    report = _json(photo_search, "report", "--index", str(index))
    assert report["named_people"] == 1 and report["people"] == len(people) and report["faces"] >= 14


def test_a_face_finds_its_person_and_says_which_face(library: tuple[Path, Path], photo_search: PhotoSearch) -> None:
    index = library[1]
    outcome = _json(photo_search, "search", "--index", str(index), "--face", "both/fd_009.jpg", "--no-collapse")
    assert "face" in outcome["note"] and "both/fd_009.jpg#N" in outcome["note"]
    people = _people(photo_search, index)
    faces = sorted((face["box"][0], person["id"]) for person in people for face in person["faces"]
                   if face["path"] == "both/fd_009.jpg")
    second = _json(photo_search, "search", "--index", str(index), "--face", "both/fd_009.jpg#2", "--no-collapse")
    wanted = next(person for person in people if person["id"] == faces[1][1])
    assert {r["path"] for r in second["results"]} == {face["path"] for face in wanted["faces"]}
    wrong = photo_search("search", "--index", str(index), "--face", "both/fd_009.jpg#9")
    assert wrong.returncode == 2 and "give a number from 1 to 2" in wrong.stderr and "Traceback" not in wrong.stderr
    faceless = photo_search("search", "--index", str(index), "--face", "things/pizza.jpg")
    assert faceless.returncode == 2 and "no face was found" in faceless.stderr


def test_new_photos_join_people_and_corrections_survive_regrouping(library: tuple[Path, Path], photos: Path,
                                                                    photo_search: PhotoSearch) -> None:
    folder, index = library
    kit = photos / "faces" / "images"
    angelina = _person_with(_people(photo_search, index), "angelina/fd_058.jpg")
    _json(photo_search, "people", "name", angelina["id"], "Angelina", "--index", str(index))
    for who, names in LATER.items():
        for name in names:
            shutil.copy2(kit / name, folder / who / name)
    done = photo_search("index", str(folder), "--index", str(index))  # --faces is remembered
    assert done.returncode == 0, done.stderr
    after = _person_with(_people(photo_search, index), "angelina/fd_058.jpg")
    assert after["id"] == angelina["id"] and after["name"] == "Angelina"
    assert {"angelina/fd_063.jpg", "angelina/fd_064.jpg"} <= {face["path"] for face in after["faces"]}
    removed = _json(photo_search, "people", "remove-face", "angelina/fd_064.jpg", "1", "--index", str(index))
    assert removed["from"] == "Angelina"
    regrouped = _json(photo_search, "people", "regroup", "--index", str(index))["people"]
    again = _person_with(regrouped, "angelina/fd_058.jpg")
    assert again["name"] == "Angelina" and "angelina/fd_064.jpg" not in {face["path"] for face in again["faces"]}
    obama = _person_with(regrouped, "obama/fd_004.jpg")
    assert obama["id"] == _person_with(regrouped, "obama/fd_001.jpg")["id"]


def test_the_app_strip_filters_by_person_and_names_them(library: tuple[Path, Path],
                                                       photo_search: PhotoSearch) -> None:
    from helpers.app import SearchApp

    folder, index = library
    people = _people(photo_search, index)
    app = SearchApp(index, folder)
    chips = {chip.children[1].description: chip for chip in app.people_strip.children}
    assert app.people_row.layout.display is None and set(chips) == {_chip_label(person) for person in people}
    assert all(chip.children[0].value[:2] == b"\xff\xd8" for chip in chips.values())  # a face crop each
    app.name_chosen()
    assert "Choose one person" in app.status_text  # nobody chosen yet
    biden = _person_with(people, "biden/fd_006.jpg")
    chips[_chip_label(biden)].children[1].value = True
    assert _shown(app) == {face["path"] for face in biden["faces"]}
    app.person_name.value = "Joe"
    assert app.name_chosen() == "Joe" and f"Joe ({len(biden['faces'])})" in _labels(app)
    angelina = _person_with(people, "angelina/fd_058.jpg")
    chips[_chip_label(angelina)].children[1].value = True
    assert not app.results  # no photo shows both
    app.choose_person(biden["id"], False)
    app.person_name.value = "joe"
    assert app.name_chosen() is None and "already person" in app.status_text
    assert _chip_label(angelina) in _labels(app)


def _chip_label(person: dict) -> str:
    return f"{person['name'] or 'person ' + person['id']} ({len(person['faces'])})"


def _shown(app: object) -> set[str]:
    """The results' photos and the copies they stand for."""
    return {path for result in app.results  # type: ignore[attr-defined]
            for path in (result.photo.path, *(also["path"] for also in result.also))}


def _labels(app: object) -> list[str]:
    return [chip.children[1].description for chip in app.people_strip.children]  # type: ignore[attr-defined]


def test_merge_off_and_forget_to_the_bytes(library: tuple[Path, Path], photo_search: PhotoSearch) -> None:
    folder, index = library
    people = _people(photo_search, index)
    obama, biden = _person_with(people, "obama/fd_001.jpg"), _person_with(people, "biden/fd_006.jpg")
    merged = _json(photo_search, "people", "merge", obama["id"], biden["id"], "--index", str(index))
    assert merged["merged"] == obama["id"]
    assert biden["id"] not in {person["id"] for person in _people(photo_search, index)}
    off = _json(photo_search, "people", "off", "--index", str(index))
    assert off["faces"] == "off"
    (folder / "biden" / "fd_007_copy.jpg").write_bytes((folder / "biden" / "fd_007.jpg").read_bytes() + b"\0")
    assert photo_search("index", str(folder), "--index", str(index)).returncode == 0
    paths = {face["path"] for person in _people(photo_search, index) for face in person["faces"]}
    assert "biden/fd_007_copy.jpg" not in paths and "biden/fd_007.jpg" in paths
    with sqlite3.connect(index / "index.sqlite") as db:
        descriptor = db.execute("SELECT descriptor FROM faces LIMIT 1").fetchone()[0]
    gone = _json(photo_search, "people", "forget", "--index", str(index))
    assert gone["forgotten"] >= 14
    stored = b"".join(path.read_bytes() for path in index.iterdir() if path.name.startswith("index.sqlite"))
    assert descriptor not in stored and descriptor[:64] not in stored
    assert _people(photo_search, index) == []
    none = photo_search("search", "--index", str(index), "--person", "Angelina")
    assert none.returncode == 2 and "no person 'Angelina'" in none.stderr
