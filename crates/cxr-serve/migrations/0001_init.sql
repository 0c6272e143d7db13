-- cxr-serve study store, schema version 1.
-- Studies hold no patient identifiers: the label is what the uploader chose to show on the worklist, and
-- DICOM files are read without Patient's Name/ID/Birth Date (the original file is kept, content-addressed).
CREATE TABLE studies (
  id          INTEGER PRIMARY KEY,
  label       TEXT NOT NULL,
  created_at  TEXT NOT NULL,
  created_by  TEXT NOT NULL,
  status      TEXT NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'predicted', 'drafted', 'signed'))
);

CREATE TABLE images (
  id          INTEGER PRIMARY KEY,
  study_id    INTEGER NOT NULL REFERENCES studies(id),
  sha256      TEXT NOT NULL,
  format      TEXT NOT NULL,
  bytes       INTEGER NOT NULL,
  width       INTEGER NOT NULL,
  height      INTEGER NOT NULL,
  info_json   TEXT NOT NULL,
  -- The viewer's copy: modality values, at most 1024 px on the long side, as little-endian u16 over
  -- [min, max] (viewer_json holds the size, range, default window and polarity).
  viewer_sha256 TEXT NOT NULL,
  viewer_json   TEXT NOT NULL
);
CREATE INDEX images_study ON images(study_id);

CREATE TABLE model_runs (
  id             INTEGER PRIMARY KEY,
  study_id       INTEGER NOT NULL REFERENCES studies(id),
  model_name     TEXT NOT NULL,
  card_sha256    TEXT NOT NULL,
  card_json      TEXT NOT NULL,
  explain        TEXT,
  created_at     TEXT NOT NULL
);
CREATE INDEX model_runs_study ON model_runs(study_id);

CREATE TABLE findings (
  run_id       INTEGER NOT NULL REFERENCES model_runs(id),
  label        TEXT NOT NULL,
  finding      TEXT,
  score        REAL NOT NULL,
  probability  REAL NOT NULL,
  threshold    REAL NOT NULL,
  positive     INTEGER NOT NULL,
  -- RGBA PNG at the viewer's size, when the run explained this label.
  heatmap_sha256 TEXT,
  PRIMARY KEY (run_id, label)
);

-- Every saved version of a report is kept; the highest version is current. Signing adds a 'final' version.
CREATE TABLE reports (
  study_id    INTEGER NOT NULL REFERENCES studies(id),
  version     INTEGER NOT NULL,
  text        TEXT NOT NULL,
  status      TEXT NOT NULL CHECK (status IN ('draft', 'final')),
  author      TEXT NOT NULL,
  created_at  TEXT NOT NULL,
  flags_json  TEXT NOT NULL,
  PRIMARY KEY (study_id, version)
);

-- Append-only, hash-chained: hash = sha256(prev_hash | seq | at | actor | action | study_id | detail).
CREATE TABLE audit (
  seq        INTEGER PRIMARY KEY,
  at         TEXT NOT NULL,
  actor      TEXT NOT NULL,
  action     TEXT NOT NULL,
  study_id   INTEGER,
  detail     TEXT NOT NULL,
  prev_hash  TEXT NOT NULL,
  hash       TEXT NOT NULL
);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
