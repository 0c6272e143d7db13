-- Schema version 2: several images per study (the model run records which one it read), and the
-- demographics a PNG upload may carry (used only for the report check's plausibility rules).
ALTER TABLE model_runs ADD COLUMN image_index INTEGER NOT NULL DEFAULT 0;
ALTER TABLE studies ADD COLUMN sex TEXT CHECK (sex IN ('female', 'male'));
ALTER TABLE studies ADD COLUMN age_years REAL CHECK (age_years >= 0 AND age_years <= 130);
