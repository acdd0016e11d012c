-- Awards (脱贫奖, 小康奖), cross-check lists, and public notices (公示) with objections (异议).
--
-- Invariants the database itself holds:
--   A1 a programme's committed amount never exceeds its budget (CHECK on award_programs)
--   A2 one exit award per household, ever (partial unique index on awards)
--   A3 one live application per household and programme (partial unique index)
--   A4 awards, reviews and cross-check entries are append-only
--   A5 an award's split by level sums to its amount
-- ID numbers on cross-check lists are stored only as the keyed lookup hash used for heads of
-- households, never in clear.

CREATE TABLE award_programs (
    county_code  char(12) NOT NULL,
    id           uuid NOT NULL DEFAULT gen_random_uuid(),
    kind         text NOT NULL CHECK (kind IN ('exit', 'xiaokang')),
    year         integer NOT NULL CHECK (year BETWEEN 2000 AND 2100),
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    amount_fen   bigint NOT NULL CHECK (amount_fen > 0),
    budget_fen   bigint NOT NULL CHECK (budget_fen >= 0),
    committed_fen bigint NOT NULL DEFAULT 0,
    province_bp  integer NOT NULL CHECK (province_bp BETWEEN 0 AND 10000),
    city_bp      integer NOT NULL CHECK (city_bp BETWEEN 0 AND 10000),
    county_bp    integer NOT NULL CHECK (county_bp BETWEEN 0 AND 10000),
    notice_days  integer NOT NULL CHECK (notice_days BETWEEN 1 AND 90),
    opens_on     date,
    closes_on    date,
    next_serial  bigint NOT NULL DEFAULT 1,
    created_by   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (county_code, id),
    CHECK (province_bp + city_bp + county_bp = 10000),
    CHECK (kind <> 'exit' OR notice_days >= 7),
    CHECK (opens_on IS NULL OR closes_on IS NULL OR opens_on <= closes_on),
    CHECK (committed_fen BETWEEN 0 AND budget_fen)
);
CREATE UNIQUE INDEX award_programs_id ON award_programs (id);

CREATE TABLE award_applications (
    county_code         char(12) NOT NULL,
    id                  uuid NOT NULL DEFAULT gen_random_uuid(),
    seq                 bigint GENERATED ALWAYS AS IDENTITY,
    program_id          uuid NOT NULL,
    household_id        uuid NOT NULL,
    village_code        char(12) NOT NULL,
    declared_income_fen bigint NOT NULL CHECK (declared_income_fen >= 0),
    outcome             text NOT NULL CHECK (outcome IN ('eligible', 'ineligible', 'held')),
    checks              jsonb NOT NULL,
    status              text NOT NULL CHECK (status IN ('held', 'rejected', 'pending_village',
                            'pending_township', 'approved', 'in_notice', 'objected', 'over_budget', 'granted')),
    status_reason       text NOT NULL DEFAULT '',
    notice_id           uuid,
    checked_at          timestamptz NOT NULL DEFAULT clock_timestamp(),
    applied_by          text NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at          timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (county_code, id),
    FOREIGN KEY (county_code, program_id) REFERENCES award_programs (county_code, id),
    FOREIGN KEY (county_code, household_id) REFERENCES households (county_code, id)
);
CREATE UNIQUE INDEX award_applications_id ON award_applications (id);
CREATE UNIQUE INDEX award_applications_live ON award_applications (county_code, program_id, household_id)
    WHERE status <> 'rejected';
CREATE INDEX award_applications_program ON award_applications (county_code, program_id, status, seq);
CREATE INDEX award_applications_household ON award_applications (household_id);

-- Reviews (村 then 乡镇) and the township's written decision on a held application (level 'hold').
CREATE TABLE award_reviews (
    county_code    char(12) NOT NULL,
    id             uuid NOT NULL DEFAULT gen_random_uuid(),
    application_id uuid NOT NULL,
    level          text NOT NULL CHECK (level IN ('hold', 'village', 'township')),
    decision       text NOT NULL CHECK (decision IN ('approve', 'reject', 'release')),
    reason         text NOT NULL,
    reviewer       text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (county_code, id),
    FOREIGN KEY (county_code, application_id) REFERENCES award_applications (county_code, id),
    CHECK (level = 'hold' OR decision <> 'release')
);
CREATE INDEX award_reviews_application ON award_reviews (county_code, application_id, created_at);
CREATE TRIGGER award_reviews_append_only BEFORE UPDATE OR DELETE ON award_reviews
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

CREATE TABLE awards (
    county_code    char(12) NOT NULL,
    id             uuid NOT NULL DEFAULT gen_random_uuid(),
    program_id     uuid NOT NULL,
    application_id uuid NOT NULL,
    household_id   uuid NOT NULL,
    kind           text NOT NULL CHECK (kind IN ('exit', 'xiaokang')),
    year           integer NOT NULL,
    amount_fen     bigint NOT NULL CHECK (amount_fen > 0),
    province_fen   bigint NOT NULL CHECK (province_fen >= 0),
    city_fen       bigint NOT NULL CHECK (city_fen >= 0),
    county_fen     bigint NOT NULL CHECK (county_fen >= 0),
    serial         text NOT NULL,
    entry_id       uuid NOT NULL,
    payable_id     uuid NOT NULL,
    granted_on     date NOT NULL,
    granted_by     text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (county_code, id),
    UNIQUE (county_code, application_id),
    UNIQUE (county_code, serial),
    FOREIGN KEY (county_code, program_id) REFERENCES award_programs (county_code, id),
    FOREIGN KEY (county_code, application_id) REFERENCES award_applications (county_code, id),
    FOREIGN KEY (county_code, household_id) REFERENCES households (county_code, id),
    FOREIGN KEY (county_code, payable_id) REFERENCES payables (county_code, id),
    CHECK (province_fen + city_fen + county_fen = amount_fen)
);
-- A2: 脱贫奖每户只发一次. A household belongs to one county, so county_code adds no freedom.
CREATE UNIQUE INDEX awards_one_exit_per_household ON awards (county_code, household_id) WHERE kind = 'exit';
CREATE INDEX awards_program ON awards (county_code, program_id);
CREATE INDEX awards_household ON awards (household_id);
CREATE TRIGGER awards_append_only BEFORE UPDATE OR DELETE ON awards
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- 比对名单: vehicle registrations, business registrations, public payroll.
CREATE TABLE cross_check_imports (
    county_code char(12) NOT NULL,
    id          uuid NOT NULL DEFAULT gen_random_uuid(),
    filename    text NOT NULL DEFAULT '',
    rows        integer NOT NULL,
    added       integer NOT NULL,
    imported_by text NOT NULL,
    imported_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (county_code, id)
);

CREATE TABLE cross_check_entries (
    county_code char(12) NOT NULL,
    source      text NOT NULL CHECK (source IN ('vehicle', 'business_registration', 'public_payroll')),
    id_hash     bytea NOT NULL,
    import_id   uuid NOT NULL,
    imported_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (county_code, id_hash, source),
    FOREIGN KEY (county_code, import_id) REFERENCES cross_check_imports (county_code, id)
);
CREATE TRIGGER cross_check_entries_append_only BEFORE UPDATE OR DELETE ON cross_check_entries
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- 公示: a public notice of a list of subjects (award applications, distribution lines), each
-- naming a household; objections against a subject hold it until resolved.
CREATE TABLE notices (
    county_code  char(12) NOT NULL,
    id           uuid NOT NULL DEFAULT gen_random_uuid(),
    kind         text NOT NULL CHECK (kind IN ('award', 'distribution')),
    source_id    text NOT NULL,
    title        text NOT NULL,
    starts_on    date NOT NULL,
    ends_on      date NOT NULL,
    published_by text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (county_code, id),
    CHECK (ends_on > starts_on)
);
CREATE UNIQUE INDEX notices_id ON notices (id);
CREATE INDEX notices_source ON notices (county_code, kind, source_id);
CREATE TRIGGER notices_append_only BEFORE UPDATE OR DELETE ON notices
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

CREATE TABLE notice_subjects (
    county_code  char(12) NOT NULL,
    notice_id    uuid NOT NULL,
    subject_id   text NOT NULL,
    household_id uuid NOT NULL,
    amount_fen   bigint CHECK (amount_fen IS NULL OR amount_fen >= 0),
    PRIMARY KEY (county_code, notice_id, subject_id),
    FOREIGN KEY (county_code, notice_id) REFERENCES notices (county_code, id),
    FOREIGN KEY (county_code, household_id) REFERENCES households (county_code, id)
);
CREATE TRIGGER notice_subjects_append_only BEFORE UPDATE OR DELETE ON notice_subjects
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

CREATE TABLE objections (
    county_code       char(12) NOT NULL,
    id                uuid NOT NULL DEFAULT gen_random_uuid(),
    notice_id         uuid NOT NULL,
    subject_id        text NOT NULL,
    reason            text NOT NULL CHECK (length(reason) BETWEEN 1 AND 2000),
    status            text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'upheld', 'dismissed')),
    filed_on          date NOT NULL,
    filed_from        text,
    resolution_reason text,
    resolved_by       text,
    resolved_at       timestamptz,
    created_at        timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (county_code, id),
    FOREIGN KEY (county_code, notice_id, subject_id) REFERENCES notice_subjects (county_code, notice_id, subject_id),
    CHECK ((status = 'open') = (resolved_at IS NULL))
);
CREATE UNIQUE INDEX objections_id ON objections (id);
CREATE INDEX objections_open ON objections (county_code, notice_id, subject_id) WHERE status = 'open';

-- A resolution is final: an objection moves once, from open.
CREATE FUNCTION objections_transition() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status <> 'open' THEN
        RAISE EXCEPTION 'objection % is already %', OLD.id, OLD.status USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.notice_id <> OLD.notice_id OR NEW.subject_id <> OLD.subject_id OR NEW.reason <> OLD.reason THEN
        RAISE EXCEPTION 'objection % content is fixed', OLD.id USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER objections_transition BEFORE UPDATE ON objections FOR EACH ROW EXECUTE FUNCTION objections_transition();
CREATE TRIGGER objections_no_delete BEFORE DELETE ON objections FOR EACH ROW EXECUTE FUNCTION refuse_change();
