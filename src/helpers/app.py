"""The search app: one ipywidgets panel for chapter 6 in JupyterLab and for `make app` (Voila).

Upload a photo, pick one from the library (type part of its name), or describe one in words;
narrow by how many, closeness, folder, dates, place, tags and people (a strip of the people found,
when the index finds faces: choose one or more, or name one); rebuild the index; click a result for its
detail view, or a "+3 copies" badge for the copies and burst shots it stands for. Everything shown comes
from the index: the grid uses its cached thumbnails (small, EXIF-upright), and the detail view
opens a photo only by its id in the index, never a path someone typed, so the page cannot be
used to read other files on the machine.
"""

from __future__ import annotations

import html
import io
import os
import re
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import ipywidgets as widgets
from IPython.display import display

from .errors import PhotoSearchError, PhotoSkipped
from .gallery import jpeg_data_uri
from .images import LoadOptions, load_photo, load_photo_bytes, make_thumbnail
from .index import PhotoIndex, PhotoRow
from .indexer import update_index
from .people import crop_of, name_person, normal_name, people
from .search import Filters, Library, Result, SearchOutcome, Term, folded_label
from .tags import add_tag, albums, tag_counts, tags_by_hash

ALL_FOLDERS = "(all folders)"
ANY_TAG = "(any tag)"
ANY_ALBUM = "(any album)"
DETAIL_SIDE = 1024  # the detail view's longer side: sharp on a laptop screen, quick to send
CARD_WIDTH = "190px"
PICK_LIMIT = 50  # photos listed for picking by name
PEOPLE_SHOWN = 30  # people in the strip, most faces first (the rest: `people list`)
FACE_SIDE = "64px"


class SearchApp:
    """The panel. `SearchApp(index_dir, photos_dir).widget` is what to display."""

    def __init__(self, index_dir: str | os.PathLike[str], photos_dir: str | os.PathLike[str] | None = None,
                 model: str | None = None) -> None:
        self.index_dir = Path(index_dir).expanduser()
        self.photos_dir = Path(photos_dir).expanduser() if photos_dir else None
        self.model = model
        self.library: Library | None = None
        self.results: list[Result] = []
        self.detail_facts: dict[str, str] = {}  # what the detail view shows, as plain words
        self._build()
        self._open_library()

    # --- layout ---------------------------------------------------------------------------

    def _build(self) -> None:
        self.upload = widgets.FileUpload(accept="image/*", multiple=False, description="Upload a photo")
        self.find = widgets.Text(placeholder="or pick one: type part of its name", description="Pick",
                                 continuous_update=True, layout={"width": "420px"})
        self.pick = widgets.Dropdown(description="", options=[], layout={"width": "420px"})
        self.text = widgets.Text(placeholder="or describe it, e.g. a cat on a sofa", description="Text",
                                 continuous_update=False, layout={"width": "420px"})
        self.text_button = widgets.Button(description="Search text", icon="search")
        self.k = widgets.IntSlider(value=12, min=1, max=48, description="how many")
        self.min_score = widgets.FloatSlider(value=0.0, min=0.0, max=1.0, step=0.01, description="closeness",
                                             tooltip="hide results less similar than this (0: the automatic cutoff)")
        self.close_only = widgets.Checkbox(value=True, description="only close matches", indent=False,
                                           tooltip="leave out photos that are not close to the query photo "
                                                   "(a cutoff measured on your library); untick to see everything")
        self.hide_flagged = widgets.Checkbox(value=False, description="hide blurry, tiny and screenshots",
                                             indent=False)
        self.folder = widgets.Dropdown(description="folder", options=[ALL_FOLDERS])
        self.place = widgets.Text(placeholder="town, region or country", description="place",
                                  continuous_update=False)
        self.since = widgets.DatePicker(description="since")
        self.until = widgets.DatePicker(description="until")
        self.tag = widgets.Dropdown(description="tag", options=[ANY_TAG])
        self.album = widgets.Dropdown(description="album", options=[ANY_ALBUM])
        self.tag_name = widgets.Text(placeholder="a tag, e.g. receipts", description="Tag as",
                                     continuous_update=False)
        self.tag_button = widgets.Button(description="Tag selected", icon="tag",
                                         tooltip="add this tag to the results you ticked")
        self.selected: set[int] = set()  # result numbers ticked for tagging
        self.people_strip = widgets.HBox(layout={"overflow_x": "auto"})
        self.person_name = widgets.Text(placeholder="a name, e.g. Anna", description="Name as",
                                        continuous_update=False)
        self.name_button = widgets.Button(description="Name person", icon="user",
                                          tooltip="give the one person chosen in the strip this name")
        self.people_row = widgets.VBox([self.people_strip, widgets.HBox([self.person_name, self.name_button])],
                                       layout={"display": "none"})
        self.chosen_people: list[str] = []  # person ids chosen in the strip: photos with all of them
        self.rebuild_button = widgets.Button(description="Rebuild index", icon="refresh")
        self.rebuild_log = widgets.Output()
        self.status = widgets.HTML()
        self.query_view = widgets.HTML()
        self.grid = widgets.GridBox(layout={"grid_template_columns": f"repeat(auto-fill, {CARD_WIDTH})",
                                            "grid_gap": "8px"})
        self.detail_image = widgets.Image(format="jpeg", layout={"max_width": "70%"})
        self.detail_text = widgets.HTML()
        self.back = widgets.Button(description="Back to results", icon="arrow-left")
        self.detail = widgets.VBox([self.back, widgets.HBox([self.detail_image, self.detail_text],
                                                            layout={"align_items": "flex-start", "gap": "16px"})])
        self.also_grid = widgets.GridBox(layout={"grid_template_columns": f"repeat(auto-fill, {CARD_WIDTH})",
                                                 "grid_gap": "8px"})
        self.also_back = widgets.Button(description="Back to results", icon="arrow-left")
        self.also_view = widgets.VBox([self.also_back, self.also_grid])
        self.result_area = widgets.VBox([self.query_view, self.grid])
        self.widget = widgets.VBox([
            widgets.HBox([self.upload]), widgets.HBox([self.find, self.pick]),
            widgets.HBox([self.text, self.text_button]),
            widgets.HBox([self.k, self.min_score, self.folder]),
            widgets.HBox([self.since, self.until, self.place, self.close_only, self.hide_flagged]),
            widgets.HBox([self.tag, self.album, self.tag_name, self.tag_button]), self.people_row,
            widgets.HBox([self.rebuild_button]), self.rebuild_log, self.status, self.result_area,
        ])
        self.upload.observe(self._on_upload, "value")
        self.find.observe(lambda change: self._list_matches(), "value")
        self.pick.observe(lambda change: self._run_picked(), "value")
        self.text.observe(lambda change: self._run_text(), "value")
        self.text_button.on_click(lambda _: self._run_text())
        for control in (self.k, self.min_score, self.folder, self.since, self.until, self.place, self.close_only,
                        self.hide_flagged, self.tag, self.album):
            control.observe(lambda change: self._rerun(), "value")
        self.tag_button.on_click(lambda _: self.tag_selected())
        self.name_button.on_click(lambda _: self.name_chosen())
        self.rebuild_button.on_click(lambda _: self.rebuild())
        self.back.on_click(lambda _: self._show_results())
        self.also_back.on_click(lambda _: self._show_results())
        self._last_query: tuple[list[Term], str] | None = None

    def _open_library(self) -> None:
        """Load the index if there is one; otherwise say how to make it."""
        if not (self.index_dir / "index.sqlite").exists():
            self.library = None
            self._say("No index yet: press <b>Rebuild index</b> to build one from the photo folder.")
            return
        try:
            self.library = Library(PhotoIndex.open(self.index_dir))
        except PhotoSearchError as error:
            self.library = None
            self._say(f"The index cannot be used: {html.escape(str(error))}")
            return
        if self.photos_dir is None:
            self.photos_dir = self.library.index.photos_root
        rows = self.library.rows
        self._list_matches()
        self.folder.options = [ALL_FOLDERS] + sorted({row.folder for row in rows if row.folder})
        self._list_tags()
        self._list_people()
        self.album.options = [ANY_ALBUM] + [album.name for album in
                                            albums(self.library.index, {row.folder for row in rows}).values()]
        self._say(f"{len(rows)} photos in the index ({html.escape(self.library.model_id)}). Upload, pick or "
                  "describe a photo.")

    # --- queries ---------------------------------------------------------------------------

    def _on_upload(self, change: dict[str, Any]) -> None:
        files = change["new"]
        if not files:
            return
        self.search_upload(files[0]["name"], bytes(files[0]["content"]))

    def search_upload(self, name: str, data: bytes) -> SearchOutcome | None:
        """Search with the bytes of an uploaded file (what the upload button hands over)."""
        try:
            picture = make_thumbnail(load_photo_bytes(data, LoadOptions(min_side=256), name=name).image)
        except PhotoSkipped as skipped:
            self._say(f"Could not read {html.escape(name)}: {html.escape(skipped.reason)}. Try a JPEG, PNG, HEIC "
                      "or WebP photo.")
            return None
        return self._search([Term("bytes", data)], _picture_html(picture, f"uploaded: {name}"))

    def _list_matches(self) -> None:
        """The library photos whose name contains what was typed, the first PICK_LIMIT of them: the
        list a person picks from stays short however large the library is."""
        typed = self.find.value.strip().lower()
        rows = self.library.rows if self.library else []
        matches = [row for row in rows if typed in row.path.lower()][:PICK_LIMIT] if typed else []
        more = "" if len(matches) < PICK_LIMIT else f" (first {PICK_LIMIT}: type more)"
        label = f"{len(matches)} photos{more}" if typed else "type to list photos"
        self.pick.options = [(label, None)] + [(row.path, row.id) for row in matches]

    def _run_picked(self) -> None:
        if self.pick.value is None or self.library is None:
            return
        row = next(r for r in self.library.rows if r.id == self.pick.value)
        self._search([Term("photo", row.id)], _picture_html(self.library.index.thumbnail(row.id), row.path))

    def _run_text(self) -> None:
        if self.text.value.strip():
            self._search([Term("text", self.text.value.strip())],
                         f"<p>photos matching <b>{html.escape(self.text.value.strip())}</b></p>")
        else:  # the query cleared: a chosen tag or album alone lists its photos
            self._last_query = None
            self._rerun()

    def _rerun(self) -> None:
        if self._last_query is not None:
            self._search(*self._last_query)
        elif self.tag.value != ANY_TAG or self.album.value != ANY_ALBUM or self.chosen_people:
            self._search([], "<p>the photos with this tag, in this album or of these people, newest first</p>")

    def _filters(self) -> Filters:
        return Filters(folder=None if self.folder.value == ALL_FOLDERS else self.folder.value,
                       since=self.since.value, until=self.until.value, place=self.place.value.strip() or None,
                       hide_flagged=self.hide_flagged.value,
                       tags=() if self.tag.value == ANY_TAG else (self.tag.value,),
                       album=None if self.album.value == ANY_ALBUM else self.album.value,
                       people=tuple(self.chosen_people))

    def _list_tags(self) -> None:
        if self.library is not None:
            self.tag.options = [ANY_TAG] + list(tag_counts(self.library.index))

    def tag_selected(self) -> int:
        """Tag the ticked results with the name typed beside the button; how many gained the tag."""
        chosen = [self.results[number].photo for number in sorted(self.selected) if number < len(self.results)]
        if self.library is None or not chosen or not self.tag_name.value.strip():
            self._say("Tick the results to tag and type a tag first.")
            return 0
        try:
            added = add_tag(self.library.index, self.tag_name.value, chosen)
        except PhotoSearchError as error:
            self._say(html.escape(str(error)))
            return 0
        self.library.tags = tags_by_hash(self.library.index)
        self._list_tags()
        self._say(f"Tagged {added} photos <b>{html.escape(' '.join(self.tag_name.value.split()))}</b> "
                  f"({len(chosen) - added} had it already).")
        return added

    # --- people ------------------------------------------------------------------------------

    def _list_people(self) -> None:
        """One chip per person (a face crop, the name, how many faces): choosing chips filters."""
        if self.library is None:
            return
        found = people(self.library.index)[0][:PEOPLE_SHOWN]
        self.chosen_people = [ref for ref in self.chosen_people if ref in {str(person.id) for person in found}]
        chips = []
        for person in found:
            crop = crop_of(self.library.index, person.faces[0][1].id)
            toggle = widgets.ToggleButton(value=str(person.id) in self.chosen_people,
                                          description=f"{person.label} ({len(person.faces)})",
                                          tooltip=f"only photos of {person.label}", layout={"width": "auto"})
            toggle.add_class("photo-search-person")
            toggle.observe(lambda change, ref=str(person.id): self.choose_person(ref, change["new"]), "value")
            chips.append(widgets.VBox([widgets.Image(value=crop, format="jpeg",
                                                     layout={"width": FACE_SIDE, "height": FACE_SIDE}), toggle],
                                      layout={"align_items": "center", "margin": "0 6px 0 0"}))
        self.people_strip.children = chips
        self.people_row.layout.display = None if chips else "none"

    def choose_person(self, ref: str, chosen: bool) -> None:
        """Add or remove a person (by id) from the people every result must show."""
        self.chosen_people = [r for r in self.chosen_people if r != ref] + ([ref] if chosen else [])
        self._rerun()
        if not self.chosen_people and self._last_query is None:
            self.results, self.grid.children, self.query_view.value = [], [], ""

    def name_chosen(self) -> str | None:
        """Name the one person chosen in the strip with what was typed; the new name, or None."""
        if len(self.chosen_people) != 1 or not self.person_name.value.strip() or self.library is None:
            self._say("Choose one person in the strip and type their name first.")
            return None
        try:
            name_person(self.library.index, self.chosen_people[0], self.person_name.value)
        except PhotoSearchError as error:
            self._say(html.escape(str(error)))
            return None
        name = normal_name(self.person_name.value)
        self._list_people()
        self._say(f"Named <b>{html.escape(name)}</b>: search for them with <code>--person "
                  f"{html.escape(name)}</code> too.")
        return name

    def _min_score(self) -> float | Literal["auto"] | None:
        """A minimum set by hand wins; else the library's own cutoff, unless "only close matches" is off."""
        if self.min_score.value > 0:
            return self.min_score.value
        return "auto" if self.close_only.value else None

    def _search(self, terms: list[Term], query_html: str) -> SearchOutcome | None:
        self._last_query = (terms, query_html)
        if self.library is None:
            self._say("No index yet: press <b>Rebuild index</b> first.")
            return None
        self._say("Searching... (the first search loads the model: a few seconds)")
        try:
            if terms:
                outcome = self.library.search(terms, k=self.k.value, filters=self._filters(),
                                              min_score=self._min_score())
            else:
                outcome = self.library.browse(k=self.k.value, filters=self._filters())
        except PhotoSearchError as error:
            self.results, self.grid.children, self.query_view.value = [], [], ""  # no stale results
            self._say(html.escape(str(error)))
            return None
        self.results = outcome.results
        self.selected = set()
        self.query_view.value = query_html
        notes = "".join(f"<br><i>{html.escape(note)}</i>" for note in outcome.notes)
        if not outcome.results:
            self._say(f"No close matches in this library ({outcome.took_ms:.0f} ms).{notes}")
        else:
            self._say(f"{len(outcome.results)} results in {outcome.took_ms:.0f} ms.{notes}")
        self.grid.children = [self._card(number, result) for number, result in enumerate(outcome.results)]
        self._show_results()
        return outcome

    def _card(self, number: int, result: Result) -> widgets.Widget:
        thumbnail = self.library.index.thumbnail(result.photo.id) if self.library else None
        picture = widgets.Image(value=thumbnail or b"", format="jpeg", layout={"width": CARD_WIDTH})
        button = widgets.Button(description=f"{result.score:.3f}  {Path(result.photo.path).name}",
                                tooltip=result.photo.path, layout={"width": CARD_WIDTH})
        button.add_class("photo-search-result")
        button.on_click(lambda _, n=number: self.show_detail(n))
        tick = widgets.Checkbox(value=False, description="select", indent=False, layout={"width": CARD_WIDTH})
        tick.observe(lambda change, n=number: self._tick(n, change["new"]), "value")
        parts: list[widgets.Widget] = [picture, button, tick]
        if result.words or result.tags:
            said = f"says: <mark>{html.escape(' '.join(result.words))}</mark>" if result.words else ""
            tags = f"tags: {html.escape(', '.join(result.tags))}" if result.tags else ""
            parts.append(widgets.HTML(f"<small>{'<br>'.join(part for part in (said, tags) if part)}</small>",
                                      layout={"width": CARD_WIDTH}))
        if result.also:
            badge = widgets.Button(description=folded_label(result.also), layout={"width": CARD_WIDTH},
                                   tooltip="copies and burst shots of this photo: show them")
            badge.add_class("photo-search-also")
            badge.on_click(lambda _, n=number: self.show_also(n))
            parts.append(badge)
        return widgets.VBox(parts)

    def _tick(self, number: int, ticked: bool) -> None:
        if ticked:
            self.selected.add(number)
        else:
            self.selected.discard(number)

    def show_also(self, number: int) -> None:
        """The photos a result stands for (its copies and burst shots), in place of the results."""
        result = self.results[number]
        cards = []
        shown: list[tuple[str, str]] = [("shown", result.photo.path)] + [(a["kind"], a["path"]) for a in result.also]
        for kind, path in shown:
            row = self.library.index.find_by_path(path) if self.library else None
            thumbnail = self.library.index.thumbnail(row.id) if self.library and row else None
            label = widgets.HTML(f"<small>{html.escape(kind)}: {html.escape(path)}</small>",
                                 layout={"width": CARD_WIDTH})
            cards.append(widgets.VBox([widgets.Image(value=thumbnail or b"", format="jpeg",
                                                     layout={"width": CARD_WIDTH}), label]))
        self.also_grid.children = cards
        self.result_area.layout.display = "none"
        self.widget.children = [*self.widget.children[:-1], self.also_view]

    # --- detail view -------------------------------------------------------------------------

    def show_detail(self, number: int) -> None:
        """The chosen result, larger, with what the index knows about it; only indexed photos."""
        result = self.results[number]
        self.detail_image.value = self._detail_picture(result.photo)
        row = result.photo
        self.detail_facts = {"file": row.path, "folder": row.folder or "(top)",
                             "date taken": date_in_words(row.date_taken), "place": result.place_name or "unknown",
                             "camera": row.camera or "unknown", "size": f"{row.width} x {row.height}",
                             "score": f"{result.score:.3f}"}
        self.detail_text.value = "<table>" + "".join(
            f"<tr><th style='text-align:left;padding-right:1em'>{name}</th><td>{html.escape(value)}</td></tr>"
            for name, value in self.detail_facts.items()) + "</table>"
        self.result_area.layout.display = "none"
        self.widget.children = [*self.widget.children[:-1], self.detail]

    def _detail_picture(self, row: PhotoRow) -> bytes:
        if self.photos_dir is not None:
            try:
                image = load_photo(self.photos_dir / row.path, LoadOptions(min_side=DETAIL_SIDE)).image
                image.thumbnail((DETAIL_SIDE, DETAIL_SIDE))
                buffer = io.BytesIO()
                image.save(buffer, "JPEG", quality=88)
                return buffer.getvalue()
            except (PhotoSkipped, OSError):
                pass  # moved or unreadable since indexing: the cached thumbnail still shows it
        return (self.library.index.thumbnail(row.id) if self.library else None) or b""

    def _show_results(self) -> None:
        self.result_area.layout.display = None
        self.widget.children = [*self.widget.children[:-1], self.result_area]

    # --- the index -----------------------------------------------------------------------------

    def rebuild(self) -> None:
        """Bring the index up to date with the photo folder, with a progress bar and a summary."""
        if self.photos_dir is None:
            self._say("No photo folder is known for this index: start the app with one.")
            return
        self.rebuild_button.disabled = True
        self.rebuild_log.clear_output()
        try:
            if self.library is not None:
                self.library.index.close()
            with self.rebuild_log:
                summary = update_index(self.photos_dir, self.index_dir, model=self.model, progress=True)
            self._open_library()
            self._say(f"Index rebuilt in {summary.seconds:.1f} s: {summary.added} added, {summary.updated} updated, "
                      f"{summary.removed} removed, {summary.moved} moved, {len(summary.skipped)} skipped.")
        except PhotoSearchError as error:
            self._say(f"Could not rebuild the index: {html.escape(str(error))}")
        finally:
            self.rebuild_button.disabled = False

    def _say(self, message_html: str) -> None:
        self.status.value = f"<p>{message_html}</p>"

    @property
    def status_text(self) -> str:
        """The status as plain words (what the panel shows, without its HTML): one line per line
        shown, so a note stays apart from the sentence before it."""
        lines = re.split(r"<br\s*/?>", self.status.value)
        return "\n".join(" ".join(html.unescape(re.sub(r"<[^>]+>", " ", line)).split()) for line in lines)

    def show(self) -> None:
        display(self.widget)


def date_in_words(iso: str | None) -> str:
    """'Sunday 14 July 2019, 10:00' from the index's ISO date ('unknown' without one)."""
    if not iso:
        return "unknown"
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    return f"{moment:%A} {moment.day} {moment:%B %Y, %H:%M}"


def _picture_html(jpeg: bytes | None, caption: str) -> str:
    if not jpeg:
        return f"<p>{html.escape(caption)}</p>"
    return (f"<div><img src='{jpeg_data_uri(jpeg)}' style='max-height:160px;border-radius:4px'>"
            f"<p>{html.escape(caption)}</p></div>")
