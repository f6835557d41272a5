"""People: the faces the faces stage found (`helpers.faces`), grouped into people, named and
corrected by the person whose library it is, and forgotten on request.

Grouping: two faces closer than THRESHOLD (Euclidean distance of their descriptors) are linked,
and Chinese whispers (dlib's) makes groups of the links; a group of two faces or more is a
person. A new face joins the person of its nearest face when that is close enough; the faces
that join nobody are grouped among themselves. What a person said wins over grouping: faces of a
named or merged person are confirmed and stay with that person through any re-grouping, and a
face taken out of a person ("this is not Anna") never goes back to them.

Face data is opt-in per index (`index --faces`), stays in the index on this machine, is never
looked for in a folder that holds a `.nofaces` file (or below one) or that `people skip` names,
and `forget` deletes all of it, bytes included.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import BadInput, quoted
from .faces import DIMENSION
from .index import PhotoIndex, PhotoRow

OWNER = "faces"  # the faces stage owns these tables
SETTINGS = "faces.settings"  # stage state: {"on": bool, "skip": [folders]}
OPT_OUT_FILE = ".nofaces"
# Chosen on the face kit over 8 splits of its identities (BENCHMARKS.md, "People"): the largest
# same-person distance there is 0.61 and the smallest different-person one 0.62; at 0.55 the
# grouping's pairwise precision and recall are 1.000 on every split.
THRESHOLD = 0.55
TABLES = {0: """
CREATE TABLE people (
    id INTEGER PRIMARY KEY,
    name TEXT UNIQUE COLLATE NOCASE
);
CREATE TABLE faces (
    id INTEGER PRIMARY KEY,
    photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
    number INTEGER NOT NULL,            -- 1, 2, ... left to right in the photo
    x INTEGER NOT NULL, y INTEGER NOT NULL, w INTEGER NOT NULL, h INTEGER NOT NULL,
    descriptor BLOB NOT NULL,           -- 128 float32
    crop BLOB NOT NULL,                 -- a small JPEG of the face, for the people view
    person_id INTEGER REFERENCES people(id) ON DELETE SET NULL,
    confirmed INTEGER NOT NULL DEFAULT 0,  -- 1: a person put it there (named, merged)
    grouped INTEGER NOT NULL DEFAULT 0,    -- 1: grouping has seen it
    UNIQUE (photo_id, number)
);
CREATE INDEX faces_by_person ON faces(person_id);
CREATE TABLE not_person (
    face_id INTEGER NOT NULL REFERENCES faces(id) ON DELETE CASCADE,
    person_id INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    PRIMARY KEY (face_id, person_id)
)
"""}


@dataclass(frozen=True)
class Settings:
    on: bool = False
    skip: tuple[str, ...] = ()

    def skips(self, folder: str) -> bool:
        """Whether photos in `folder` (relative, forward slashes) are in a skipped folder."""
        return any(folder == skipped or folder.startswith(skipped + "/") for skipped in self.skip)


@dataclass(frozen=True)
class FaceRow:
    id: int
    photo_id: int
    number: int
    box: tuple[int, int, int, int]
    person_id: int | None


@dataclass
class Person:
    id: int
    name: str | None
    faces: list[tuple[str, FaceRow]] = field(default_factory=list)  # (photo path, face)

    @property
    def label(self) -> str:
        return self.name or f"person {self.id}"


# --- settings -----------------------------------------------------------------------------

def settings(index: PhotoIndex) -> Settings:
    stored = index.stage_state(SETTINGS) or {}
    return Settings(bool(stored.get("on")), tuple(stored.get("skip", ())))


def set_on(index: PhotoIndex, on: bool) -> None:
    """Turn finding faces on (the next index run looks at every photo not looked at) or off."""
    current = settings(index)
    index.set_stage_state(SETTINGS, {"on": on, "skip": list(current.skip)})


def skip_folder(index: PhotoIndex, folder: str) -> int:
    """Never look for faces in `folder` (and below); the faces found there so far go now. Returns how many."""
    folder = folder.strip().strip("/")
    if not folder:
        raise BadInput("name a folder inside the photo folder, e.g. `people skip Work`")
    current = settings(index)
    ready(index)
    with index.transaction() as db:
        gone = db.execute("DELETE FROM faces WHERE photo_id IN (SELECT id FROM photos WHERE folder = ? OR "
                          "folder LIKE ? ESCAPE '\\')", (folder, _like_prefix(folder))).rowcount
        index.set_stage_state(SETTINGS, {"on": current.on, "skip": sorted({*current.skip, folder})}, db)
        drop_empty(db)
    return gone


def _like_prefix(folder: str) -> str:
    return folder.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "/%"


def ready(index: PhotoIndex) -> None:
    index.ensure_tables(OWNER, TABLES)


def has_faces(index: PhotoIndex) -> bool:
    return index.has_tables(OWNER)


# --- grouping -----------------------------------------------------------------------------

def clusters(descriptors: np.ndarray, threshold: float = THRESHOLD) -> list[int]:
    """A group label per face: Chinese whispers over the links between faces closer than `threshold`."""
    count = len(descriptors)
    if count == 0:
        return []
    import dlib

    edges: list[tuple[int, int]] = [(n, n) for n in range(count)]
    for start in range(0, count, 1024):  # distances a block at a time: memory stays small
        block = _distances(descriptors[start:start + 1024], descriptors)
        rows, columns = np.nonzero(block < threshold)
        edges += [(start + int(r), int(c)) for r, c in zip(rows, columns, strict=True) if start + r < c]
    return [int(label) for label in dlib.chinese_whispers(edges)]


def _distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    squared = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2 * a @ b.T
    return np.sqrt(np.maximum(squared, 0))


@dataclass
class _Faces:
    """Every face's grouping facts, read at once."""

    ids: np.ndarray
    descriptors: np.ndarray
    person: list[int | None]
    confirmed: np.ndarray
    grouped: np.ndarray
    forbidden: set[tuple[int, int]]

    @classmethod
    def read(cls, index: PhotoIndex) -> _Faces:
        rows = index.db.execute("SELECT id, descriptor, person_id, confirmed, grouped FROM faces "
                                "ORDER BY id").fetchall()
        return cls(np.array([row[0] for row in rows], dtype=np.int64),
                   _descriptors([row[1] for row in rows]),
                   [row[2] for row in rows],
                   np.array([bool(row[3]) for row in rows], dtype=bool),
                   np.array([bool(row[4]) for row in rows], dtype=bool),
                   set(index.db.execute("SELECT face_id, person_id FROM not_person")))

    def allowed(self, position: int, person: int) -> bool:
        return (int(self.ids[position]), person) not in self.forbidden


def _descriptors(blobs: Sequence[bytes]) -> np.ndarray:
    if not blobs:
        return np.zeros((0, DIMENSION), dtype=np.float32)
    return np.frombuffer(b"".join(blobs), dtype=np.float32).reshape(len(blobs), DIMENSION)


def group_new(index: PhotoIndex) -> None:
    """Faces the grouping has not seen join the person of their nearest face when it is close
    enough; every face still without a person is then grouped with the others like it."""
    faces = _Faces.read(index)
    new = np.flatnonzero(~faces.grouped)
    if not len(new):
        return
    placed = np.flatnonzero(faces.grouped & np.array([p is not None for p in faces.person], dtype=bool))
    if len(placed):
        distances = _distances(faces.descriptors[new], faces.descriptors[placed])
        for row, position in enumerate(new):
            for column in np.argsort(distances[row]):
                person = faces.person[placed[column]]
                if distances[row, column] >= THRESHOLD:
                    break
                if person is not None and faces.allowed(int(position), person):
                    faces.person[position] = person
                    break
    loose = [n for n, person in enumerate(faces.person) if person is None]
    labels = clusters(faces.descriptors[loose])
    with index.transaction() as db:
        for members in _by_label(labels, loose).values():
            if len(members) >= 2:
                person = int(db.execute("INSERT INTO people (name) VALUES (NULL)").lastrowid or 0)
                for member in members:
                    faces.person[member] = person
        db.executemany("UPDATE faces SET person_id = ?, grouped = 1 WHERE id = ?",
                       [(faces.person[n], int(faces.ids[n])) for n in range(len(faces.ids))
                        if not faces.grouped[n] or n in loose])
        drop_empty(db)


def regroup(index: PhotoIndex) -> None:
    """Group every face again from the start. Confirmed faces stay where a person put them and
    pull the faces grouped with them along; an unconfirmed group keeps the id (and so the name)
    of the person most of its faces belonged to."""
    ready(index)
    faces = _Faces.read(index)
    labels = clusters(faces.descriptors)
    claimed: set[int] = set()
    with index.transaction() as db:
        for members in _by_label(labels, range(len(labels))).values():
            sure = Counter(faces.person[n] for n in members if faces.confirmed[n] and faces.person[n] is not None)
            before = Counter(faces.person[n] for n in members if faces.person[n] is not None)
            person = sure.most_common(1)[0][0] if sure else next(
                (p for p, _ in before.most_common() if p not in claimed), None)
            if person is None and len(members) >= 2:
                person = int(db.execute("INSERT INTO people (name) VALUES (NULL)").lastrowid or 0)
            if person is not None:
                claimed.add(person)
            for n in members:
                if not faces.confirmed[n]:
                    faces.person[n] = person if person is not None and faces.allowed(n, person) else None
        db.executemany("UPDATE faces SET person_id = ?, grouped = 1 WHERE id = ?",
                       [(person, int(face_id)) for face_id, person in zip(faces.ids, faces.person, strict=True)])
        drop_empty(db)


def _by_label(labels: Sequence[int], positions: Iterable[int]) -> dict[int, list[int]]:
    groups: dict[int, list[int]] = {}
    for label, position in zip(labels, positions, strict=True):
        groups.setdefault(label, []).append(position)
    return groups


def drop_empty(db: Any) -> None:
    """A person with no face left goes (their name with them)."""
    db.execute("DELETE FROM people WHERE id NOT IN (SELECT person_id FROM faces WHERE person_id IS NOT NULL)")


# --- reading ------------------------------------------------------------------------------

def people(index: PhotoIndex) -> tuple[list[Person], int]:
    """Every person, most faces first, with their faces; and how many faces belong to nobody."""
    if not has_faces(index):
        return [], 0
    found = {person_id: Person(person_id, name) for person_id, name in index.db.execute("SELECT id, name FROM people")}
    loose = 0
    for row in index.db.execute("SELECT f.id, f.photo_id, f.number, f.x, f.y, f.w, f.h, f.person_id, p.path FROM "
                                "faces f JOIN photos p ON p.id = f.photo_id ORDER BY p.path, f.number"):
        face = FaceRow(row[0], row[1], row[2], (row[3], row[4], row[5], row[6]), row[7])
        if face.person_id in found:
            found[face.person_id].faces.append((row[8], face))
        else:
            loose += 1
    return sorted(found.values(), key=lambda person: (-len(person.faces), person.id)), loose


def counts(index: PhotoIndex) -> dict[str, int]:
    """Faces found, people, named people (for `report --index`)."""
    if not has_faces(index):
        return {"faces": 0, "people": 0, "named_people": 0}
    faces, persons, named = index.db.execute(
        "SELECT (SELECT count(*) FROM faces), count(*), count(name) FROM people").fetchone()
    return {"faces": faces, "people": persons, "named_people": named}


def person_named(index: PhotoIndex, ref: str) -> int:
    """A person's id from its name (any case) or its id; a one-line error naming who there is."""
    if has_faces(index):
        row = index.db.execute("SELECT id FROM people WHERE name = ?", (ref.strip(),)).fetchone()
        if row is None and ref.strip().isdigit():
            row = index.db.execute("SELECT id FROM people WHERE id = ?", (int(ref),)).fetchone()
        if row is not None:
            return int(row[0])
    names = [person.label for person in people(index)[0][:12]]
    there = ", ".join(names) if names else "none yet: index with --faces first"
    raise BadInput(f"no person {quoted(ref)} in this index (people: {there}); see `photo-search people list`")


def photos_of(index: PhotoIndex, person_id: int) -> set[int]:
    return {row[0] for row in index.db.execute("SELECT photo_id FROM faces WHERE person_id = ?", (person_id,))}


def faces_in_photo(index: PhotoIndex, photo: PhotoRow) -> list[tuple[FaceRow, np.ndarray]]:
    """The faces stored for one photo, left to right, with their descriptors."""
    if not has_faces(index):
        return []
    rows = index.db.execute("SELECT id, photo_id, number, x, y, w, h, person_id, descriptor FROM faces "
                            "WHERE photo_id = ? ORDER BY number", (photo.id,)).fetchall()
    return [(FaceRow(r[0], r[1], r[2], (r[3], r[4], r[5], r[6]), r[7]), _descriptors([r[8]])[0]) for r in rows]


def nearest_photos(index: PhotoIndex, descriptor: np.ndarray, person_id: int | None) -> dict[int, float]:
    """Photo id -> closeness (1 - distance) to a face, for every photo holding a face closer than
    THRESHOLD or a face of `person_id` (that person's photos, when the face has one)."""
    rows = index.db.execute("SELECT photo_id, person_id, descriptor FROM faces").fetchall()
    if not rows:
        return {}
    distances = _distances(descriptor[None, :], _descriptors([row[2] for row in rows]))[0]
    found: dict[int, float] = {}
    for (photo_id, person, _), distance in zip(rows, distances.tolist(), strict=True):
        if distance < THRESHOLD or (person_id is not None and person == person_id):
            found[photo_id] = max(found.get(photo_id, -1.0), 1.0 - distance)
    return found


def crop_of(index: PhotoIndex, face_id: int) -> bytes:
    row = index.db.execute("SELECT crop FROM faces WHERE id = ?", (face_id,)).fetchone()
    return bytes(row[0]) if row else b""


@dataclass(frozen=True)
class ChosenFace:
    """The face a search looks for ("photos of the person in this photo")."""

    descriptor: np.ndarray
    person_id: int | None
    note: str | None = None  # which face was used, when the photo holds several


def chosen_face(index: PhotoIndex, spec: str) -> ChosenFace:
    """The face `PHOTO#N` names (N counts from 1, left to right); `PHOTO` alone is its largest face."""
    head, _, tail = spec.rpartition("#")
    name, number = (head, int(tail)) if head and tail.isdigit() else (spec, None)
    photo = index.photo_named(name)
    faces = faces_in_photo(index, photo)
    if not faces:
        raise BadInput(f"no face was found in {quoted(photo.path)}" + (
            "" if settings(index).on else ": faces are off for this index (turn them on with `index ... --faces`)"))
    if number is None:
        face, descriptor = max(faces, key=lambda item: item[0].box[2] * item[0].box[3])
        note = (f"used face {face.number} of {len(faces)} in {photo.path} (the largest); choose another with "
                f"{photo.path}#N" if len(faces) > 1 else None)
        return ChosenFace(descriptor, face.person_id, note)
    face, descriptor = _numbered(faces, number, photo)
    return ChosenFace(descriptor, face.person_id)


def _numbered(faces: list[tuple[FaceRow, np.ndarray]], number: int, photo: PhotoRow) -> tuple[FaceRow, np.ndarray]:
    if not 1 <= number <= len(faces):
        raise BadInput(f"{quoted(photo.path)} has {len(faces)} face(s) found; give a number from 1 to {len(faces)}"
                       if faces else f"no face was found in {quoted(photo.path)}")
    return faces[number - 1]


# --- what a person says -------------------------------------------------------------------

def normal_name(name: str) -> str:
    """A name as it is stored: ends trimmed, runs of spaces made one ("Anna " is "Anna")."""
    return " ".join(name.split())


def name_person(index: PhotoIndex, ref: str, name: str) -> int:
    """Name a person; their faces become confirmed (they stay together through re-grouping)."""
    name = normal_name(name)
    if not name or len(name) > 100:
        raise BadInput("a name needs 1 to 100 characters")
    person = person_named(index, ref)
    other = index.db.execute("SELECT id FROM people WHERE name = ? AND id != ?", (name, person)).fetchone()
    if other:
        raise BadInput(f"{quoted(name)} is already person {other[0]}: to make them one, "
                       f"`photo-search people merge {other[0]} {person}`")
    with index.transaction() as db:
        db.execute("UPDATE people SET name = ? WHERE id = ?", (name, person))
        db.execute("UPDATE faces SET confirmed = 1 WHERE person_id = ?", (person,))
    return person


def merge_people(index: PhotoIndex, keep_ref: str, other_ref: str) -> int:
    """Person B's faces become person A's (confirmed); A keeps its name, or takes B's."""
    keep, other = person_named(index, keep_ref), person_named(index, other_ref)
    if keep == other:
        raise BadInput(f"{quoted(keep_ref)} and {quoted(other_ref)} are the same person")
    with index.transaction() as db:
        name = db.execute("SELECT coalesce((SELECT name FROM people WHERE id = ?), "
                          "(SELECT name FROM people WHERE id = ?))", (keep, other)).fetchone()[0]
        db.execute("UPDATE faces SET person_id = ?, confirmed = 1 WHERE person_id IN (?, ?)", (keep, keep, other))
        db.execute("DELETE FROM not_person WHERE person_id = ?", (other,))
        db.execute("DELETE FROM people WHERE id = ?", (other,))
        db.execute("UPDATE people SET name = ? WHERE id = ?", (name, keep))
    return keep


def remove_face(index: PhotoIndex, photo: PhotoRow, number: int) -> str | None:
    """"This is not them": face `number` of the photo leaves its person and never rejoins them.
    Returns the label of the person it left (None: it belonged to nobody)."""
    chosen, _ = _numbered(faces_in_photo(index, photo), number, photo)
    if chosen.person_id is None:
        return None
    label = next(p.label for p in people(index)[0] if p.id == chosen.person_id)
    with index.transaction() as db:
        db.execute("INSERT OR IGNORE INTO not_person (face_id, person_id) VALUES (?, ?)",
                   (chosen.id, chosen.person_id))
        db.execute("UPDATE faces SET person_id = NULL, confirmed = 0 WHERE id = ?", (chosen.id,))
        drop_empty(db)
    return label


def forget(index: PhotoIndex) -> int:
    """Delete every face, descriptor, crop, person and name, turn finding faces off, and compact
    the database so the bytes are gone from the file too. Returns how many faces went."""
    if not has_faces(index):
        set_on(index, False)
        return 0
    index.db.execute("PRAGMA secure_delete = ON")  # freed pages are overwritten with zeros
    with index.transaction() as db:
        gone = db.execute("DELETE FROM faces").rowcount
        db.execute("DELETE FROM not_person")
        db.execute("DELETE FROM people")
        index.forget_stage(db, OWNER)
        index.set_stage_state(SETTINGS, {"on": False, "skip": list(settings(index).skip)}, db)
    index.compact()
    return gone

