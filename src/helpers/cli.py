"""The `photo-search` command: parse arguments, call the library, present the result.

Nothing here does real work. Every command prints exactly one JSON object with `--json`, or
readable text without; expected failures become one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from dataclasses import asdict, replace
from typing import Any, Literal, NoReturn

from . import __version__
from .duplicates.settings import DEFAULT_THRESHOLD
from .errors import INPUT_SHOWN, BadInput, PhotoSearchError, quoted
from .images import DEFAULT_MAX_MEGAPIXELS
from .index import PhotoIndex
from .models import list_models, load_model
from .models.engines import ENGINES, ENV_ENGINE
from .options import IndexOptions
from .search import Filters, Library, Term, folded_label, parse_day, parse_query

EXIT_OK, EXIT_BAD_INPUT = 0, 2


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line (with where to look) instead of a usage dump."""

    def error(self, message: str) -> NoReturn:
        # argparse quotes the offending value whole: a 100,000-character one is shortened here.
        message = re.sub(rf"'([^']{{{INPUT_SHOWN + 1},}})'", lambda match: quoted(match.group(1)), message)
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS,
                        help="print one JSON object on stdout instead of text")

    parser = _Parser(
        prog="photo-search",
        description="Search your own photo folder by example photo or by text, and find "
                    "near-duplicates. Everything stays on this machine; photos are only read.",
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    index = commands.add_parser("index", parents=[common], help="build or update the index of a photo folder",
                                description="Embed every photo of PHOTOS_DIR into an index folder. A re-run "
                                            "only reads what changed; an interrupted run resumes.")
    index.add_argument("photos_dir", metavar="PHOTOS_DIR", help="the photo folder (only read, never changed)")
    index.add_argument("--index", required=True, metavar="INDEX_DIR", help="where the index lives (created)")
    index.add_argument("--model", default=None,
                       help=f"embedding model: {', '.join(list_models())} (default: $PHOTO_SEARCH_MODEL or clip)")
    _add_engine(index)
    index.add_argument("--reembed", action="store_true", help="rebuild every vector (needed to change model)")
    index.add_argument("--batch-size", type=_positive_int, default=IndexOptions.batch_size,
                       help="photos per model call (default: %(default)s)")
    index.add_argument("--workers", type=_positive_int, default=None, help="decode threads (default: cores)")
    _add_megapixels(index)
    index.add_argument("--faces", action="store_true",
                       help="also find faces and group them into people (opt-in, remembered; `people off` stops it)")
    index.set_defaults(handler=run_index)

    search = commands.add_parser("search", parents=[common], help="find photos by text or by an example photo",
                                 description="Search an index by text, by an example photo, or by a "
                                             "combination such as '\"beach\" + photo.jpg - \"people\"'.")
    what = _add_query(search, required=False)
    what.add_argument("--query", metavar="EXPR", help="weighted mix of texts and images, e.g. "
                                                       "'\"beach\" + ref.jpg - 0.5*\"people\"'")
    search.add_argument("--words", metavar="W", help="the words written in the photo (signs, screenshots, "
                                                     "receipts); alone, the whole query; with another, a filter")
    text = search.add_mutually_exclusive_group()
    text.add_argument("--has-text", dest="has_text", action="store_const", const=True, default=None,
                      help="only photos with words in them (screenshots, documents, signs)")
    text.add_argument("--no-text", dest="has_text", action="store_const", const=False,
                      help="only photos without words in them")
    search.add_argument("-k", type=_positive_int, default=10, help="how many results (default: 10)")
    _add_engine(search)
    search.add_argument("--folder", help="only photos in this folder (and below), relative to the photo folder")
    search.add_argument("--since", metavar="YYYY-MM-DD", help="only photos taken on or after this day")
    search.add_argument("--until", metavar="YYYY-MM-DD", help="only photos taken on or before this day")
    search.add_argument("--camera", help="only photos from a camera whose make or model contains this")
    search.add_argument("--place", help="only photos taken in this town, region or country (from their GPS)")
    search.add_argument("--tag", action="append", default=[], metavar="TAG",
                        help="only photos with this tag (repeat for photos with all of them)")
    search.add_argument("--not-tag", action="append", default=[], metavar="TAG", help="leave out photos with this tag")
    search.add_argument("--album", help="only photos in this album (named with `album add`, or a top-level folder)")
    search.add_argument("--person", action="append", default=[], metavar="NAME",
                        help="only photos of this person (name or id from `people list`; repeat: all of them)")
    search.add_argument("--face", metavar="PHOTO[#N]",
                        help="photos of the person whose face is in this photo (#N: its Nth face from the left)")
    search.add_argument("--min-score", type=float, default=None,
                        help="drop results below this similarity (default: the cutoff measured on this library, "
                             "one for photo queries and one for text; 0 shows everything)")
    search.add_argument("--diversity", type=float, default=0.0,
                        help="0 to 1: prefer variety over near-identical results (default: 0)")
    search.add_argument("--hide-flagged", action="store_true",
                        help="leave out likely-blurry photos, tiny ones and screenshots (see `report`)")
    search.add_argument("--no-rerank", action="store_true", help="plain cosine ranking, no re-ranking")
    search.add_argument("--no-collapse", action="store_true",
                        help="list copies and burst shots of one photo as separate results (default: one "
                             "result each, the others in its \"also\")")
    search.set_defaults(handler=run_search)

    tag = commands.add_parser("tag", parents=[common], help="tag photos, list, export and import tags",
                              description="Your own labels for photos (\"receipts\", \"family\"). Kept in the "
                                          "index by the photo's content (they survive moves and renames), never "
                                          "written into the photo files. Keywords already in the files (XMP, "
                                          "IPTC) are read as tags too.")
    tag_commands = tag.add_subparsers(dest="tag_command", metavar="ACTION", required=True)
    for action, helptext in (("add", "tag photos: name them, or tag what a search returns (--from-search)"),
                             ("remove", "take a tag off photos")):
        change = tag_commands.add_parser(action, parents=[common], help=helptext, description=helptext)
        change.add_argument("tag", metavar="TAG")
        change.add_argument("photos", metavar="PHOTO", nargs="*", help="paths inside the photo folder")
        change.add_argument("--index", required=True, metavar="INDEX_DIR")
        change.add_argument("--from-search", metavar="EXPR",
                            help="the photos a search returns, e.g. 'receipt' or 'ref.jpg' (as search --query)")
        change.add_argument("-k", type=_positive_int, default=10, help="how many results --from-search takes")
        change.set_defaults(handler=run_tag)
    listing = tag_commands.add_parser("list", parents=[common], help="every tag with how many photos carry it")
    listing.add_argument("--index", required=True, metavar="INDEX_DIR")
    listing.set_defaults(handler=run_tag)
    export = tag_commands.add_parser("export", parents=[common], help="write every photo's tags as CSV (path,tag)")
    export.add_argument("--index", required=True, metavar="INDEX_DIR")
    export.add_argument("--out", required=True, metavar="TAGS_CSV")
    export.set_defaults(handler=run_tag)
    load = tag_commands.add_parser("import", parents=[common], help="tag photos from a CSV with columns path,tag")
    load.add_argument("csv", metavar="TAGS_CSV")
    load.add_argument("--index", required=True, metavar="INDEX_DIR")
    load.set_defaults(handler=run_tag)

    album = commands.add_parser("album", parents=[common], help="name sets of folders; list the albums",
                                description="An album is a named set of folders; every top-level folder is one "
                                            "without setup. Search inside one with search --album NAME.")
    album_commands = album.add_subparsers(dest="album_command", metavar="ACTION", required=True)
    album_add = album_commands.add_parser("add", parents=[common], help="name the folders matching patterns")
    album_add.add_argument("name", metavar="NAME")
    album_add.add_argument("--folders", required=True, action="append", metavar="PATTERN",
                           help="folders relative to the photo folder, * and ? allowed, e.g. '2024/Vacation*' "
                                "(repeat for more)")
    album_add.add_argument("--index", required=True, metavar="INDEX_DIR")
    album_add.set_defaults(handler=run_album)
    album_list = album_commands.add_parser("list", parents=[common], help="every album with its photo count")
    album_list.add_argument("--index", required=True, metavar="INDEX_DIR")
    album_list.set_defaults(handler=run_album)

    people = commands.add_parser("people", parents=[common], help="the people found in the photos (index --faces)",
                                 description="Faces are found only in an index built with --faces; face data "
                                             "stays in the index on this machine.")
    people_commands = people.add_subparsers(dest="people_command", required=True, metavar="ACTION")
    for action, helptext, arguments in (
            ("list", "every person with their faces; --out writes a contact sheet", ()),
            ("name", "name a person (ID from `people list`, or their current name)", ("id", "name")),
            ("merge", "make person B part of person A", ("a", "b")),
            ("remove-face", "take face N of PHOTO out of its person (\"this is not them\")", ("photo", "number")),
            ("skip", "never look for faces in FOLDER (and below); its faces go now", ("folder",)),
            ("regroup", "group every face again (names and corrections are kept)", ()),
            ("off", "stop looking for faces in new photos (what was found stays until `forget`)", ()),
            ("forget", "delete every face, person and name from the index, and stop", ())):
        command = people_commands.add_parser(action, parents=[common], help=helptext, description=helptext)
        for argument in arguments:
            command.add_argument(argument, metavar=argument.upper(),
                                 type=_positive_int if argument == "number" else str)
        command.add_argument("--index", required=True, metavar="INDEX_DIR")
        if action == "list":
            command.add_argument("--out", metavar="FILE.html", help="also write the contact sheet of face crops")
        command.set_defaults(handler=run_people)

    report = commands.add_parser("report", parents=[common], help="which photos load, which do not, and why",
                                 description="Ingestion health: try to decode every image in a folder (or read "
                                             "an index's record of it) and report what is skipped, with reasons.")
    source = report.add_mutually_exclusive_group(required=True)
    source.add_argument("photos_dir", metavar="PHOTOS_DIR", nargs="?", help="the photo folder (only read)")
    source.add_argument("--index", metavar="INDEX_DIR", help="report from an index instead (no decoding)")
    _add_megapixels(report)
    report.add_argument("--workers", type=_positive_int, default=None, help="decode threads (default: cores)")
    report.set_defaults(handler=run_report)

    evaluation = commands.add_parser("eval", parents=[common], help="measure search quality against ground truth",
                                     description="Use every photo of GROUPS_CSV (columns path,group) as a query "
                                                 "and score its top-K: photos of the same group are relevant. "
                                                 "Or compare models side by side with --compare.")
    evaluation.add_argument("--index", metavar="INDEX_DIR", help="the index to evaluate (not with --compare)")
    truth = evaluation.add_mutually_exclusive_group()
    truth.add_argument("--groups", metavar="GROUPS_CSV",
                       help="ground truth: path (relative to the photo folder), group")
    truth.add_argument("--folders", action="store_true",
                       help="no ground truth: photos in the same folder count as relevant (weak labels)")
    evaluation.add_argument("--captions", metavar="CAPTIONS_CSV",
                            help="also score text queries from path,caption (or path,labels with ';' between "
                                 "labels); reports recall@1/5/10")
    evaluation.add_argument("-k", type=_positive_int, default=10, help="results scored per query (default: 10)")
    evaluation.add_argument("--no-rerank", action="store_true", help="score plain cosine ranking")
    evaluation.add_argument("--per-query", action="store_true", help="include every query's scores (worst first)")
    evaluation.add_argument("--compare", metavar="MODELS",
                            help="comma-separated models to index PHOTOS_DIR with and compare, e.g. "
                                 "efficientnet-lite0,baseline-pixels,baseline-histogram")
    evaluation.add_argument("--photos", metavar="PHOTOS_DIR", help="the photo folder for --compare")
    evaluation.add_argument("--work", metavar="DIR", default="data/compare",
                            help="where --compare keeps one index per model (default: data/compare)")
    evaluation.set_defaults(handler=run_eval)

    gallery = commands.add_parser("gallery", parents=[common], help="write search results as one HTML page",
                                  description="Search, then write the results as one self-contained page "
                                              "(thumbnails embedded, opens offline).")
    _add_query(gallery)
    gallery.add_argument("--out", required=True, metavar="FILE.html", help="where to write the page")
    gallery.add_argument("-k", type=_positive_int, default=24, help="how many results (default: 24)")
    gallery.set_defaults(handler=run_gallery)

    dupes = commands.add_parser("dupes", parents=[common], help="find exact and near-duplicate photos",
                                description="Group exact copies and edited copies (near), each with a suggested "
                                            "keeper; burst shots are listed apart as similar. Never deletes.")
    dupes.add_argument("--index", required=True, metavar="INDEX_DIR")
    dupes.add_argument("--threshold", type=float, default=None,
                       help="verification score for near duplicates, 0 to 1 (default: calibrated, "
                            f"else {DEFAULT_THRESHOLD}); a look only: what the index stores stays")
    dupes.add_argument("--calibrate", action="store_true",
                       help="first measure the threshold on edited copies of a sample of the library; store it")
    dupes.add_argument("--sample", type=_positive_int, default=20, help="photos used by --calibrate (default: 20)")
    dupes.add_argument("--precision", type=float, default=0.99, help="target precision of --calibrate")
    dupes.add_argument("--model", default=None, help="model for --calibrate (default: the index's model)")
    dupes.add_argument("--out", metavar="FILE", help="also write the review list (.csv, else JSON)")
    dupes.add_argument("--move-to", metavar="REVIEW_DIR",
                       help="move the suggested copies into this folder (outside the photo folder); undoable")
    dupes.add_argument("--undo", metavar="MANIFEST", help="put back every file a --move-to moved, then stop")
    dupes.set_defaults(handler=run_dupes)
    return parser


def _add_query(parser: argparse.ArgumentParser, *, required: bool = True) -> argparse._MutuallyExclusiveGroup:
    """The index to search and what to search for: one of --text or --image (callers may add more)."""
    parser.add_argument("--index", required=True, metavar="INDEX_DIR")
    what = parser.add_mutually_exclusive_group(required=required)
    what.add_argument("--text", help="describe the photo you want")
    what.add_argument("--image", metavar="PATH", help="find photos that look like this one")
    return what


def _add_engine(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--engine", choices=ENGINES, default=None,
                        help="what runs the model: onnx (ONNX Runtime, the CPU default) or torch (PyTorch, "
                             f"the default with an NVIDIA GPU); also ${ENV_ENGINE}")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {quoted(text)}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected at least 1, got {value}")
    return value


def _add_megapixels(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--max-megapixels", type=float, default=DEFAULT_MAX_MEGAPIXELS,
                        help="skip images larger than this (default: %(default)g)")


def _show_progress(args: argparse.Namespace) -> bool:
    return not args.json and sys.stderr.isatty()


# Each command imports what only it needs, so a search does not pay for loading the duplicate
# finder or the evaluation code: start-up time is most of a cold query.

def run_index(args: argparse.Namespace) -> dict[str, Any]:
    from .indexer import update_index

    options = IndexOptions(model=args.model, engine=args.engine, reembed=args.reembed, batch_size=args.batch_size,
                           workers=args.workers, max_megapixels=args.max_megapixels, faces=args.faces)
    summary = update_index(args.photos_dir, args.index, options, progress=_show_progress(args))
    return summary.as_dict()


def run_search(args: argparse.Namespace) -> dict[str, Any]:
    filters = Filters(folder=args.folder, since=parse_day(args.since, "--since"),
                      until=parse_day(args.until, "--until"), camera=args.camera, place=args.place,
                      hide_flagged=args.hide_flagged, has_text=args.has_text, tags=tuple(args.tag),
                      not_tags=tuple(args.not_tag), album=args.album, people=tuple(args.person))
    if not 0 <= args.diversity < 1:
        raise BadInput("--diversity must be at least 0 and below 1")
    query = [Term("words", args.words)] if args.words is not None else []
    if args.text is not None:
        query.append(Term("text", args.text))
    elif args.image is not None:
        query.append(Term("path", args.image))
    elif args.query is not None:
        query += parse_query(args.query)
    if not query and not (filters.tags or filters.album or filters.has_text is not None or filters.people
                          or args.face):
        raise BadInput("say what to search for: --text, --image, --query, --words or --face (or list photos by "
                       "--tag, --album, --person or --has-text)")
    if args.words is not None and not args.words.strip():
        raise BadInput("--words is empty: give the words written in the photo")
    with PhotoIndex.open(args.index) as index:
        if args.face is not None:
            from .people import chosen_face

            filters = replace(filters, face=chosen_face(index, args.face))
        min_score: float | Literal["auto"] = "auto" if args.min_score is None else args.min_score
        library = Library(index, engine=args.engine)
        if not query:
            return library.browse(k=args.k, filters=filters, collapse=not args.no_collapse).as_dict()
        outcome = library.search(query, k=args.k, filters=filters, min_score=min_score,
                                                            rerank=not args.no_rerank, diversity=args.diversity,
                                                            collapse=not args.no_collapse)
    return outcome.as_dict()


def run_tag(args: argparse.Namespace) -> dict[str, Any]:
    from .tags import add_tag, export_tags, import_tags, remove_tag, tag_counts

    with PhotoIndex.open(args.index) as index:
        if args.tag_command == "list":
            return {"tags": tag_counts(index)}
        if args.tag_command == "export":
            return {"rows": export_tags(index, args.out), "out": args.out}
        if args.tag_command == "import":
            added, missing = import_tags(index, args.csv)
            return {"added": added, "not_in_index": missing}
        photos = [index.photo_named(name) for name in args.photos]
        if args.from_search:
            base = index.photos_root
            outcome = Library(index).search(parse_query(args.from_search, base=base), k=args.k, min_score="auto")
            photos += [result.photo for result in outcome.results]
        if not photos:
            raise BadInput(f"name the photos to {args.tag_command} the tag on, or give --from-search EXPR")
        if args.tag_command == "add":
            return {"tag": args.tag, "added": add_tag(index, args.tag, photos), "photos": [p.path for p in photos]}
        return {"tag": args.tag, "removed": remove_tag(index, args.tag, photos), "photos": [p.path for p in photos]}


def run_people(args: argparse.Namespace) -> dict[str, Any]:
    from . import people

    with PhotoIndex.open(args.index) as index:
        action = args.people_command
        if action == "list":
            return _people_listing(index, args.out)
        if action == "name":
            return {"named": str(people.name_person(index, args.id, args.name)), "name": " ".join(args.name.split())}
        if action == "merge":
            return {"merged": str(people.merge_people(index, args.a, args.b))}
        if action == "remove-face":
            photo = index.photo_named(args.photo)
            return {"removed": f"{photo.path}#{args.number}", "from": people.remove_face(index, photo, args.number)}
        if action == "skip":
            return {"skipped_folder": args.folder.strip("/"), "faces_forgotten": people.skip_folder(index, args.folder)}
        if action == "regroup":
            people.regroup(index)
            return _people_listing(index, None)
        if action == "off":
            people.set_on(index, False)
            return {"faces": "off", "kept": people.counts(index)["faces"]}
        return {"faces": "off", "forgotten": people.forget(index)}


def _people_listing(index: PhotoIndex, out: str | None) -> dict[str, Any]:
    from .people import people

    found, loose = people(index)
    result: dict[str, Any] = {
        "people": [{"id": str(person.id), "name": person.name,
                    "faces": [{"path": path, "number": face.number, "box": list(face.box)}
                              for path, face in person.faces]}
                   for person in found], "unassigned": loose}
    if out:
        from .gallery import write_people_sheet

        result["out"] = write_people_sheet(index, out)["out"]
    return result


def run_album(args: argparse.Namespace) -> dict[str, Any]:
    from .tags import add_album, albums

    with PhotoIndex.open(args.index) as index:
        folders = [row.folder for row in index.photo_rows()]
        if args.album_command == "add":
            album = add_album(index, args.name, args.folders)
            return {"album": album.name, "folders": list(album.patterns),
                    "photos": sum(album.holds(folder) for folder in folders)}
        return {"albums": {album.name: {"folders": list(album.patterns), "named": album.named,
                                        "photos": sum(album.holds(folder) for folder in folders)}
                           for album in albums(index, folders).values()}}


def run_eval(args: argparse.Namespace) -> dict[str, Any]:
    from .evaluate import (
        compare_models,
        evaluate_image_queries,
        evaluate_text_queries,
        groups_from_folders,
        read_groups,
        read_text_queries,
    )

    if args.compare:
        if not (args.photos and (args.groups or args.folders)):
            raise BadInput("--compare needs --photos PHOTOS_DIR and --groups GROUPS_CSV (or --folders)")
        models = [name.strip() for name in args.compare.split(",") if name.strip()]
        rows = compare_models(args.photos, models, args.work, groups=read_groups(args.groups) if args.groups else None,
                              k=args.k, progress=_show_progress(args))
        return {"k": args.k, "models": rows}
    if not args.index or not (args.groups or args.folders or args.captions):
        raise BadInput("eval needs --index INDEX_DIR and --groups GROUPS_CSV, --folders or --captions")
    result: dict[str, Any] = {}
    with PhotoIndex.open(args.index) as index:
        library = Library(index)
        if args.groups or args.folders:
            groups = read_groups(args.groups) if args.groups else groups_from_folders(library)
            report = evaluate_image_queries(library, groups, k=args.k, rerank=not args.no_rerank)
            if not report.queries:
                raise BadInput(f"no photo of {args.groups or 'any folder'} has a relevant partner in the index: "
                               "check that its paths are relative to the photo folder")
            result |= report.as_dict() | {"missing": report.missing}
            if args.per_query:
                result["per_query"] = [{key: value for key, value in asdict(q).items() if key != "hits"}
                                       for q in sorted(report.queries, key=lambda q: q.average_precision)]
        if args.captions:
            text = evaluate_text_queries(library, read_text_queries(args.captions))
            result |= text.as_dict()
            if args.per_query:
                result["per_text_query"] = [asdict(q) for q in text.queries]
    return result


def run_gallery(args: argparse.Namespace) -> dict[str, Any]:
    from .gallery import write_gallery

    query = Term("text", args.text) if args.text is not None else Term("path", args.image)
    with PhotoIndex.open(args.index) as index:
        return write_gallery(Library(index), query, args.out, k=args.k)


def run_dupes(args: argparse.Namespace) -> dict[str, Any]:
    from .duplicates.calibrate import calibrate
    from .duplicates.finder import find_duplicates
    from .duplicates.review import move_copies, undo_moves, write_review_list

    if args.undo:
        return undo_moves(args.undo)
    if args.threshold is not None and not 0 <= args.threshold <= 1:
        raise BadInput("--threshold must be between 0 and 1")
    if not 0 < args.precision <= 1:
        raise BadInput("--precision must be above 0 and at most 1")
    with PhotoIndex.open(args.index) as index:
        calibration = None
        if args.calibrate:
            embedder = load_model(args.model or index.model_id)
            calibration = calibrate(index, embedder, sample=args.sample, target_precision=args.precision,
                                    show_progress=_show_progress(args))
        report = find_duplicates(index, args.threshold, show_progress=_show_progress(args))
        result = report.as_dict()
        if calibration is not None:
            result["calibration"] = calibration.as_dict()
        if args.out:
            result["review_list"] = str(write_review_list(report, args.out))
        if args.move_to:
            if index.photos_root is None:
                raise BadInput("this index does not know its photo folder; re-run 'photo-search index' first")
            result["moves"] = move_copies(report, index.photos_root, args.move_to).as_dict()
    return result


def run_report(args: argparse.Namespace) -> dict[str, Any]:
    from .health import REPORT_OPTIONS, health_report, index_health

    if args.index:
        with PhotoIndex.open(args.index) as index:
            return index_health(index).as_dict()
    report = health_report(args.photos_dir, replace(REPORT_OPTIONS, max_megapixels=args.max_megapixels),
                           workers=args.workers, progress=_show_progress(args))
    return report.as_dict()


def _print_human(command: str, result: dict[str, Any]) -> None:
    for line in HUMAN_OUTPUT.get(command, _as_json)(result):
        print(line)


def _report_lines(result: dict[str, Any]) -> list[str]:
    lines = [f"{result['loaded']} of {result['files']} image files load; {len(result['skipped'])} skipped."]
    if result["by_format"]:
        lines.append("formats: " + ", ".join(f"{name} {count}" for name, count in result["by_format"].items()))
    lines += [f"  skipped {item['path']}: {item['reason']}" for item in result["skipped"]]
    if result.get("by_flag"):
        counts = ", ".join(f"{name} {count}" for name, count in result["by_flag"].items())
        lines.append(f"flagged (still indexed): {counts}")
        lines += [f"  {item['path']}: {', '.join(item['flags'])}" for item in result["flagged"][:20]]
        if len(result["flagged"]) > 20:
            lines.append(f"  ... and {len(result['flagged']) - 20} more (--json lists them all)")
    if result.get("by_country"):
        lines.append("places: " + ", ".join(f"{name} {count}" for name, count in result["by_country"].items()))
    if result.get("with_words"):
        lines.append(f"words read in {result['with_words']} photos (search them with --words, list them with "
                     "--has-text)")
    if result.get("tags"):
        lines.append("tags: " + ", ".join(f"{name} {count}" for name, count in result["tags"].items()))
    if result.get("faces"):
        lines.append(f"faces: {result['faces']} found, {result['people']} people ({result['named_people']} named)")
    return lines


def _index_lines(result: dict[str, Any]) -> list[str]:
    lines = [f"{result['indexed']} photos in the index ({result['model']}): {result['added']} added, "
             f"{result['updated']} updated, {result['removed']} removed, {result['moved']} moved "
             f"in {result['seconds']:.1f} s" + (f" ({result['images_per_second']:.1f} photos/s)"
                                                if result["images_per_second"] else "")]
    lines += [f"  skipped {item['path']}: {item['reason']}" for item in result["skipped"]]
    return lines


def _search_lines(result: dict[str, Any]) -> list[str]:
    lines = [f"note: {result['note']}"] if result.get("note") else []
    lines += [f"{item['score']:.3f}  {item['path']}" + (f"  ({item['date'][:10]})" if item["date"] else "")
              + (f"  {item['place']}" if item.get("place") else "")
              + (f"  [{folded_label(item['also'])}]" if item.get("also") else "")
              + (f"  says: {' '.join(item['words'])}" if item.get("words") else "") for item in result["results"]]
    if not result["results"]:
        lines.append("no results")
    lines.append(f"({result['took_ms']:.0f} ms)")
    return lines


def _as_json(result: dict[str, Any]) -> list[str]:
    return [json.dumps(result, indent=2)]


def _eval_lines(result: dict[str, Any]) -> list[str]:
    k = result["k"]
    if "models" in result:
        lines = [(f"{'model':<22} {'mAP@' + str(k):>8} {'no re-rank':>10} {'index s':>8} {'photos/s':>8} "
                  f"{'query ms':>8} {'vectors MB':>10}")]
        for row in result["models"]:
            if "error" in row:
                lines.append(f"{row['model']:<22} unavailable: {row['error']}")
                continue
            lines.append(f"{row['model']:<22} {row['map_at_k']:>8.3f} {row['map_at_k_plain']:>10.3f} "
                         f"{row['index_seconds']:>8.1f} {row['photos_per_second']:>8.1f} {row['query_ms']:>8.1f} "
                         f"{row['vectors_mb']:>10.1f}")
        return lines
    lines = []
    if "map_at_k" in result:
        lines.append(f"{result['queries']} queries: mAP@{k} {result['map_at_k']:.3f}, precision@{k} "
                     f"{result['precision_at_k']:.3f}, recall@{k} {result['recall_at_k']:.3f}"
                     + (f" ({result['missing']} ground-truth paths not in the index)" if result.get("missing") else ""))
        lines += [f"  AP {q['average_precision']:.2f}  {q['path']}" for q in result.get("per_query", [])[:20]]
    if "text_queries" in result:
        lines.append(f"{result['text_queries']} text queries: recall@1 {result['recall_at_1']:.3f}, "
                     f"recall@5 {result['recall_at_5']:.3f}, recall@10 {result['recall_at_10']:.3f}"
                     + (f" ({result['unreadable']} the model could not read)" if result["unreadable"] else ""))
    return lines


def _dupes_lines(result: dict[str, Any]) -> list[str]:
    if "restored" in result:
        return [f"{result['restored']} files put back"] + [f"  still in review (its place is taken): {path}"
                                                          for path in result["left_in_review"]]
    lines = []
    if "calibration" in result:
        calibration = result["calibration"]
        lines.append(f"calibrated on {calibration['sample']} photos and their generated copies: threshold "
                     f"{calibration['threshold']} (precision {calibration['precision']:.3f}, recall "
                     f"{calibration['recall']:.3f}); stored in the index")
    for group in result["groups"]:
        lines.append(f"keep {group['keep']}  ({group['reason']})")
        lines += [f"   {member['kind']:5} {member['score']:.2f}  {member['path']}" for member in group["members"]]
    copies = sum(len(group["members"]) for group in result["groups"])
    lines.append(f"{len(result['groups'])} groups, {copies} copies (threshold {result['threshold']}); "
                 f"{len(result['similar'])} group(s) of similar photos (bursts, re-takes) not counted as copies")
    if "review_list" in result:
        lines.append(f"review list written to {result['review_list']}")
    if "moves" in result:
        lines.append(f"{result['moves']['moved']} copies moved to {result['moves']['review_dir']}; undo with "
                     f"photo-search dupes --index ... --undo {result['moves']['manifest']}")
    return lines


def _gallery_lines(result: dict[str, Any]) -> list[str]:
    return [f"{result['results']} results written to {result['out']}"]


def _tag_lines(result: dict[str, Any]) -> list[str]:
    if "tags" in result:
        return [f"{count:6}  {tag}" for tag, count in result["tags"].items()] or ["no tags yet"]
    if "out" in result:
        return [f"{result['rows']} tags written to {result['out']}"]
    if "not_in_index" in result:
        return [f"{result['added']} tags added"] + [f"  not in the index: {path}" for path in result["not_in_index"]]
    done = f"tagged {result['added']}" if "added" in result else f"untagged {result['removed']}"
    return [f"{done} of {len(result['photos'])} photos '{result['tag']}'"]


def _album_lines(result: dict[str, Any]) -> list[str]:
    if "album" in result:
        return [f"album '{result['album']}': {result['photos']} photos in {', '.join(result['folders'])}"]
    return [f"{album['photos']:6}  {name}" + (f"  ({', '.join(album['folders'])})" if album["named"] else "")
            for name, album in result["albums"].items()] or ["no albums: the photo folder has no subfolders yet"]


def _people_lines(result: dict[str, Any]) -> list[str]:
    if "people" in result:
        lines = [f"{len(person['faces']):6}  {person['name'] or '(no name)'}  [id {person['id']}]"
                 for person in result["people"]] or ["no people found yet (index with --faces to find them)"]
        lines.append(f"{result['unassigned']} faces belong to nobody yet")
        return lines + ([f"contact sheet written to {result['out']}"] if result.get("out") else [])
    if "named" in result:
        return [f"person {result['named']} is now {result['name']}"]
    if "merged" in result:
        return [f"merged into person {result['merged']}"]
    if "removed" in result:
        return [f"face {result['removed']} taken out of {result['from'] or 'nobody'}"]
    if "skipped_folder" in result:
        gone = result["faces_forgotten"]
        return [f"faces are never looked for in {result['skipped_folder']}/ ({gone} found there are gone)"]
    if "forgotten" in result:
        return [f"{result['forgotten']} faces and every person and name deleted; finding faces is off"]
    return [f"finding faces is off; the {result['kept']} faces found stay until `photo-search people forget`"]


HUMAN_OUTPUT = {"tag": _tag_lines, "people": _people_lines, "album": _album_lines,
                "report": _report_lines, "index": _index_lines, "search": _search_lines, "eval": _eval_lines,
                "gallery": _gallery_lines, "dupes": _dupes_lines}


def _fail(message: str, as_json: bool) -> int:
    print(f"photo-search: error: {message}", file=sys.stderr)
    if as_json:
        print(json.dumps({"error": message}))
    return EXIT_BAD_INPUT


def main(argv: Sequence[str] | None = None) -> int:
    # File names may not be valid UTF-8; show them escaped rather than crash on printing.
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    parser = build_parser()
    args = parser.parse_args(argv)
    args.json = getattr(args, "json", False)
    try:
        result = args.handler(args)
    except PhotoSearchError as error:
        return _fail(str(error), args.json)
    except OSError as error:  # the system refused something the library did not foresee: still one line
        where = f": {quoted(error.filename)}" if error.filename else ""
        return _fail(f"{error.strerror or error}{where}", args.json)
    except KeyboardInterrupt:
        print("photo-search: interrupted; nothing in your photo folder was changed", file=sys.stderr)
        return 130
    if args.json:
        print(json.dumps(result))
    else:
        _print_human(args.command, result)
    return EXIT_OK
