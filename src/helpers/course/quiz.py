"""Check yourself: five questions at the end of every chapter, answered with one letter each.

`questions("03")` prints a chapter's questions; `quiz("03", "bcaab")` marks the answers, explains
each wrong one in a line, and fails (one line, no traceback) until every answer is right, so a
chapter's own answers are checked whenever the chapter runs.
"""

from __future__ import annotations

from dataclasses import dataclass

from .chapters import NotYet


@dataclass(frozen=True)
class Question:
    ask: str
    options: tuple[str, str, str]
    answer: str  # "a", "b" or "c"
    why: str  # one line: what makes the answer right


Q = Question
QUIZZES: dict[str, tuple[Question, ...]] = {
    "00": (
        Q("What does the course turn each photo into, so that 'looks like' becomes a computation?",
          ("a file name that describes it", "a list of numbers (a vector)", "a smaller JPEG"), "b",
          "an embedding is a vector; photos that look alike get vectors that point the same way"),
        Q("Why do raw pixels (a photo shrunk to 16 x 16) find other subjects than an embedding does?",
          ("they match colours and layout, not what the photo shows", "they are computed more slowly",
           "they ignore the EXIF orientation"), "a",
          "two photos of one dog on grass and on snow share a subject, not colours"),
        Q("What does this course do to the files in your photo folder?",
          ("renames them by date", "only reads them", "adds a tag file beside each"), "b",
          "photos are read-only here: indexes, previews and reports go elsewhere"),
        Q("Where do the chapters write previews and reports?",
          ("into the photo folder, beside each photo", "nowhere: they only print", "into outputs/ (OUTPUTS)"), "c",
          "nothing is ever written into the photo folder"),
        Q("Which model runs when CLIP's weights cannot be downloaded?",
          ("efficientnet-lite0, which reads text only as its 1,000 labels", "none: the course stops",
           "a smaller CLIP"), "a",
          "the offline model finds look-alikes well but cannot read a free sentence"),
    ),
    "01": (
        Q("A phone stores a photo sideways with an EXIF Orientation note. What does PIL.Image.open give you?",
          ("the stored, sideways pixels", "the pixels as the photographer saw them", "an error"), "a",
          "Image.open ignores the note: the loader has to turn the pixels itself"),
        Q("Why decode a JPEG in 'draft' mode when the model needs only about 224 pixels?",
          ("draft mode gives sharper pixels", "it fixes the orientation",
           "the decoder skips detail that would be thrown away, which is much faster on big photos"), "c",
          "on a 12-megapixel photo the draft decode is several times faster"),
        Q("A file in the folder is damaged. What does the health report do with it?",
          ("lists it with the reason it could not be read", "deletes it", "loads it as a grey rectangle"), "a",
          "bad files are reported and skipped, never fixed, moved or indexed half-grey"),
        Q("A photo is flagged 'blurry'. What happens to it?",
          ("it is left out of the index", "it is indexed, and search can hide it on request",
           "it is moved to a review folder"), "b",
          "flags are notes, not skips: --hide-flagged or the app's checkbox hides them"),
        Q("A photo has no date in its EXIF. What date does the index use?",
          ("today's date", "no date at all", "the file's modification time, marked as such in date_source"), "c",
          "date_source tells a camera's date from a guess"),
    ),
    "02": (
        Q("All vectors are normalised to length 1. What does the dot product of two of them give?",
          ("the cosine of the angle between them", "their Euclidean distance", "the number of equal pixels"), "a",
          "for unit vectors the dot product is the cosine: 1 for the same direction"),
        Q("Which pairs are brightest off the diagonal of the heat map?",
          ("two photos of different subjects", "two photos taken the same year", "a photo and its copies"), "c",
          "a copy is the same picture, so its vector is almost the same"),
        Q("A photo is embedded as stored (sideways) instead of upright. What happens?",
          ("its vector moves away from its upright original", "nothing: models do not care about orientation",
           "the model refuses it"), "a",
          "for the model a turned photo is a different picture"),
        Q("Why is the network run by ONNX Runtime rather than PyTorch on a CPU?",
          ("a search starts in about half a second instead of seconds", "its vectors are more accurate",
           "PyTorch cannot run on a CPU"), "a",
          "the export is checked against PyTorch, so both give the same vectors; ONNX Runtime starts faster"),
        Q("What did we cut off the network to get an embedding?",
          ("its final answer (the class name)", "its first layer", "nothing"), "a",
          "the layer just before the answer describes the picture in a few hundred numbers"),
    ),
    "03": (
        Q("For unit vectors, how do cosine similarity and Euclidean distance rank the photos?",
          ("in opposite orders", "in the same order", "differently, depending on the photo"), "b",
          "squared distance = 2 - 2 x cosine, so the order is the same"),
        Q("Why is the query photo removed from its own top-K results?",
          ("it is a duplicate", "it is always first (similarity 1 with itself) and tells you nothing",
           "the index forbids it"), "b",
          "a result list that starts with the question wastes a slot"),
        Q("Why use np.argpartition for the top K?",
          ("it finds the K best without sorting every photo", "it sorts more accurately",
           "it removes duplicates"), "a",
          "with 100,000 photos a full sort is wasted work"),
        Q("With the offline efficientnet-lite0, what does a text query match?",
          ("its 1000 ImageNet labels", "any sentence", "the file names"), "a",
          "it has no text encoder; CLIP has one and reads free sentences"),
        Q("What lets a CLIP model search photos with words?",
          ("it learned from photos with captions, so text and photos share one space", "it reads the file names",
           "it runs OCR on every photo"), "a",
          "a sentence is embedded into the same space as the photos"),
    ),
    "04": (
        Q("What does a second indexing run do when nothing in the folder changed?",
          ("embeds every photo again", "deletes the index", "decodes nothing: sizes and times match the index"), "c",
          "only what changed is read again"),
        Q("You rename a photo. What does the index do with its vector?",
          ("embeds it again", "keeps it: the content hash recognises the photo", "drops it"), "b",
          "a renamed or moved photo keeps its vector and its tags"),
        Q("Why does the index refuse vectors from another model?",
          ("they live in another space: comparing them means nothing", "they are larger",
           "they take longer to search"), "a",
          "change models with --reembed, which embeds everything again"),
        Q("Where does the index live?",
          ("inside the photo folder", "online", "in its own folder, never inside the photo folder"), "c",
          "photos are only read; the index is written elsewhere"),
        Q("Where does a photo's place ('Berlin') come from?",
          ("its GPS, turned into a town on your machine", "a map service online", "its folder name"), "a",
          "GeoNames data ships with a package: nothing is looked up online"),
    ),
    "05": (
        Q("Why is a cosine threshold alone not a duplicate finder?",
          ("burst shots score as high as copies, and a copy turned in its pixels scores low", "cosine is too slow",
           "it needs GPS"), "a",
          "the embedding only proposes pairs; each pair is then verified"),
        Q("How is a candidate pair verified?",
          ("by comparing file names", "by asking the user",
           "by fitting one transform between them and comparing them patch by patch"), "c",
          "an edit lines up everywhere; another shot does not"),
        Q("What tells an edited copy from the next shot of the same street when there is no EXIF?",
          ("the file size", "the colours",
           "the fine detail: an edit keeps its original's, another shot never has it"), "c",
          "things moved, near things shifted against far ones, and each exposure has its noise"),
        Q("Groups never chain. What does that mean?",
          ("a group has at most two photos", "groups are sorted by date",
           "every member was verified against the keeper itself"), "c",
          "A like B and B like C never puts an unrelated A and C together"),
        Q("What does photo-search do with the copies it finds?",
          ("moves them only when asked, with a manifest that puts every file back", "deletes them",
           "overwrites them with the keeper"), "a",
          "nothing is ever deleted"),
    ),
    "06": (
        Q("An uploaded query photo must be prepared how?",
          ("squashed to a square", "at full size",
           "exactly as the indexed photos were (upright, resized, centre-cropped)"), "c",
          "a query prepared differently drifts away from its own indexed vector"),
        Q("What does the panel do when nothing is close enough to the query?",
          ("shows the nearest photos anyway", "crashes", "says 'no close matches' instead of showing poor ones"), "c",
          "the minimum score hides poor matches, and the panel says so"),
        Q("Who can open the app page that `make app` serves?",
          ("anyone on your network", "only this computer (it listens on 127.0.0.1)", "anyone online"), "b",
          "it shows only photos in the index, by their number, to this machine"),
        Q("What does a '+3 copies' badge on a card mean?",
          ("three more copies or burst shots of this photo share its slot", "three people like it",
           "the photo was opened three times"), "a",
          "one slot per photo: copies and bursts are folded"),
        Q("What in the index is as private as the photos themselves?",
          ("its thumbnails, metadata and GPS positions", "nothing: it holds only numbers",
           "only the file names"), "a",
          "keep the index as private as the photos, and delete it with them"),
    ),
    "07": (
        Q("A query has only two right answers in the library. What is the most its precision@5 can be?",
          ("0.4", "1.0", "0.2"), "a",
          "five results, at most two right: 2 / 5"),
        Q("What does AP@K reward that precision@K does not?",
          ("finding more photos", "faster searches", "putting the right answers first"), "c",
          "AP@K is higher when the right answers come first"),
        Q("Why compare with baselines such as raw pixels?",
          ("to see what the learned embedding buys over nothing learned", "they are the best models",
           "the index needs them"), "a",
          "a score means little without something simple to beat"),
        Q("Can you carry a minimum score from one model to another?",
          ("yes, scores are universal", "no: every model's scores sit on their own scale", "only for text"), "b",
          "that is why thresholds are measured on your photos and your model"),
        Q("What does the UMAP cloud keep when it squeezes vectors onto a page?",
          ("exact distances", "neighbours: close photos stay together", "the file order"), "b",
          "far distances are distorted; neighbourhoods are what it preserves"),
    ),
    "08": (
        Q("Why is a face descriptor sensitive data?",
          ("it identifies a person, much like a fingerprint", "it is large", "it holds the photo's GPS"), "a",
          "laws such as the GDPR count it as biometric data"),
        Q("How do you keep the faces of one folder from ever being looked at?",
          ("rename the folder", "set a lower threshold", "put a .nofaces file in it (or `people skip FOLDER`)"), "c",
          "the detector never opens photos of that folder"),
        Q("Two faces are 0.4 apart. What does grouping at 0.55 do with them?",
          ("links them: likely the same person", "keeps them apart", "deletes one"), "a",
          "faces closer than the grouping distance are linked"),
        Q("You take a face out of Anna ('this is not Anna') and regroup. What happens?",
          ("it goes back to Anna", "Anna is deleted", "it never rejoins Anna"), "c",
          "corrections and names survive re-grouping"),
        Q("What does `people forget` leave in the index file?",
          ("the descriptors, hidden", "no face data at all: the file is compacted", "only the names"), "b",
          "every face, person and name is deleted, and the freed bytes too"),
    ),
    "09": (
        Q("A library holds no kangaroo and you search with a kangaroo photo. What should an honest search do?",
          ("show the five closest photos anyway", "answer with nothing, and name the closest photo and its score",
           "stop with an error"), "b",
          "the cutoff is measured on your own library; --min-score 0 shows everything when you want it"),
        Q("What does a gallery page hold that makes it worth sharing with care?",
          ("nothing but links", "thumbnails of your photos, their names and, where recorded, places",
           "only the search text"), "b", "the page works offline because the pictures are inside it"),
        Q("Why does requirements.txt pin exact versions?",
          ("next month's install is this month's, and the model computes the same vectors", "pins install faster",
           "git needs them"), "a", "an upgraded package can change the pixels or the vectors"),
        Q("You want a better model next year. What is the safe way?",
          ("delete the index first", "mix the new vectors into the old index",
           "build a new index (new folder, or --reembed after a backup) and keep the old one until it is done"), "c",
          "vectors of two models cannot be compared, and a rebuild reads every photo again"),
        Q("Where should the index not live?",
          ("in a cloud-synced folder", "in its own folder", "on an external disk you back up"), "a",
          "a sync client can copy the database mid-write and leave a broken or conflicted copy"),
    ),
}


def questions(chapter: str) -> None:
    """Print a chapter's questions, each with its options lettered a to c."""
    for number, question in enumerate(QUIZZES[chapter], 1):
        print(f"{number}. {question.ask}")
        for letter, option in zip("abc", question.options, strict=True):
            print(f"   {letter}) {option}")


def quiz(chapter: str, answers: str) -> None:
    """Mark one letter per question; explain every wrong one; fail in one line until all are right."""
    asked = QUIZZES[chapter]
    given = answers.replace(" ", "").lower()
    if len(given) != len(asked):
        raise NotYet(f"give {len(asked)} letters, one per question (you gave {len(given)})")
    wrong = 0
    for number, (question, letter) in enumerate(zip(asked, given, strict=True), 1):
        if letter == question.answer:
            print(f"{number}. right: {question.why}")
        else:
            wrong += 1
            print(f"{number}. not quite ({letter}): the answer is {question.answer}, because {question.why}")
    if wrong:
        raise NotYet(f"{len(asked) - wrong} of {len(asked)} right: read the explanations above and try again")
    print(f"well done: all {len(asked)} right")
