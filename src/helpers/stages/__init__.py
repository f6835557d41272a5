"""The stages of an index: what is worked out about the photos after they are embedded.

Each stage is one module that owns its tables (and their migrations), records which photos it
has processed at which version of itself (so a kill resumes and a new version re-runs), and
finishes its work in every run. `runner` runs them in order after embedding; the core store
(`helpers.index`) knows none of them.
- `places`: GPS -> town, region, country (offline, GeoNames)
- `copies`: copy groups, so search gives one photo and its copies one result
- `cutoff`: the automatic "no close matches" levels of this library, for photos and for text
- `keywords`: keywords other tools wrote into the files (XMP, IPTC) become tags
- `words`: the text inside each photo, read offline, in a full-text index
- `faces`: (opt-in) the faces in each photo, described and grouped into people (`helpers.people`)
"""
