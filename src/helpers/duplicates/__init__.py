"""Find the copies in a library: exact (same bytes), near (the same photo edited) and similar
(burst shots, the same scene seconds apart: reported apart, never as duplicates).

Three stages, cheapest first:
1. candidates (`candidates`): pairs whose embeddings are close, plus pairs whose turn-free
   signatures match (embeddings change a lot when a photo is turned 90 degrees), found once per
   new photo and kept in the index with the verdicts of stage 2, so the groups stay current as
   photos are added, changed, moved and removed, for `dupes` and for search alike;
2. verification of each candidate on the cached thumbnails (`verify`): one homography must map
   one photo onto the other and the pixels must agree once laid over each other; a match the
   thumbnails are unsure of gets a second look on the originals (`fine_detail`), whose fine detail
   tells one photograph, edited, from another exposure of the same scene;
3. groups without chaining: every member of a group was verified against the group's keeper
   directly, so A~B and B~C never put an unrelated A and C together.
Nothing is deleted or moved here; `review` moves files only when a person asks.
"""
