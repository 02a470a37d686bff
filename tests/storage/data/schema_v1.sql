BEGIN TRANSACTION;
CREATE TABLE experiments (
	id INTEGER NOT NULL, 
	name VARCHAR(255) NOT NULL, 
	metric VARCHAR(255) NOT NULL, 
	direction VARCHAR(8) NOT NULL, 
	space TEXT NOT NULL, 
	seed BIGINT, 
	created_at DATETIME NOT NULL, 
	attrs TEXT NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (name)
);
INSERT INTO "experiments" VALUES(1,'old','loss','min','{"x": {"kind": "real", "low": -2.0, "high": 2.0, "log": false}, "opt": {"kind": "categorical", "choices": ["adam", "sgd"], "ordered": false}}',3,'2026-12-02 01:51:29.773662','{"strategy": "random", "stream_positions": {"0": 4}}');
CREATE TABLE knoblab_meta (
	"key" VARCHAR(64) NOT NULL, 
	value TEXT NOT NULL, 
	PRIMARY KEY ("key")
);
INSERT INTO "knoblab_meta" VALUES('schema_version','1');
CREATE TABLE reports (
	id INTEGER NOT NULL, 
	trial_id INTEGER NOT NULL, 
	step INTEGER NOT NULL, 
	metrics TEXT NOT NULL, 
	at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_report_step UNIQUE (trial_id, step), 
	FOREIGN KEY(trial_id) REFERENCES trials (id) ON DELETE CASCADE
);
INSERT INTO "reports" VALUES(1,1,0,'{"loss": 4.654389134445857}','2026-12-02 01:51:29.993842');
INSERT INTO "reports" VALUES(2,1,1,'{"loss": 5.654389134445857}','2026-12-02 01:51:30.008826');
INSERT INTO "reports" VALUES(3,2,0,'{"loss": 0.15804978729917887}','2026-12-02 01:51:30.056659');
INSERT INTO "reports" VALUES(4,2,1,'{"loss": 1.1580497872991788}','2026-12-02 01:51:30.057589');
INSERT INTO "reports" VALUES(5,3,0,'{"loss": 0.022901607986964605}','2026-12-02 01:51:30.094672');
INSERT INTO "reports" VALUES(6,3,1,'{"loss": 1.0229016079869646}','2026-12-02 01:51:30.107948');
INSERT INTO "reports" VALUES(7,4,0,'{"loss": 4.734097599653645}','2026-12-02 01:51:30.145262');
INSERT INTO "reports" VALUES(8,4,1,'{"loss": 5.734097599653645}','2026-12-02 01:51:30.146171');
CREATE TABLE trials (
	id INTEGER NOT NULL, 
	experiment_id INTEGER NOT NULL, 
	number INTEGER NOT NULL, 
	round INTEGER NOT NULL, 
	state VARCHAR(16) NOT NULL, 
	params TEXT NOT NULL, 
	value FLOAT, 
	metrics TEXT NOT NULL, 
	seed BIGINT, 
	started_at DATETIME, 
	finished_at DATETIME, 
	heartbeat_at DATETIME, 
	host VARCHAR(255), 
	pid INTEGER, 
	error TEXT, 
	note TEXT, 
	attrs TEXT NOT NULL, 
	stop_requested BOOLEAN NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_trial_number UNIQUE (experiment_id, number), 
	FOREIGN KEY(experiment_id) REFERENCES experiments (id) ON DELETE CASCADE
);
INSERT INTO "trials" VALUES(1,1,0,0,'COMPLETE','{"x": -1.6574033314255026, "opt": "adam"}',4.65438913444585722345e+00,'{"loss": 4.654389134445857, "acc": 0.5}',1576890651,'2026-12-02 01:51:29.978595','2026-12-02 01:51:30.023422','2026-12-02 01:51:30.023422','vm',14888,NULL,NULL,'{"source": "random"}',0);
INSERT INTO "trials" VALUES(2,1,1,0,'COMPLETE','{"x": 0.8975547601264244, "opt": "adam"}',1.58049787299178873256e-01,'{"loss": 0.15804978729917887, "acc": 0.5}',457190280,'2026-12-02 01:51:30.047008','2026-12-02 01:51:30.059299','2026-12-02 01:51:30.059299','vm',14888,NULL,NULL,'{"source": "random"}',0);
INSERT INTO "trials" VALUES(3,1,2,0,'COMPLETE','{"x": 0.34866722765056934, "opt": "adam"}',2.29016079869646047018e-02,'{"loss": 0.022901607986964605, "acc": 0.5}',960329833,'2026-12-02 01:51:30.093386','2026-12-02 01:51:30.110042','2026-12-02 01:51:30.110042','vm',14888,NULL,NULL,'{"source": "random"}',0);
INSERT INTO "trials" VALUES(4,1,3,0,'COMPLETE','{"x": -1.6757981523233365, "opt": "sgd"}',4.73409759965364518308e+00,'{"loss": 4.734097599653645, "acc": 0.5}',4253259675,'2026-12-02 01:51:30.131263','2026-12-02 01:51:30.152003','2026-12-02 01:51:30.152003','vm',14888,NULL,NULL,'{"source": "random"}',0);
INSERT INTO "trials" VALUES(5,1,4,0,'QUEUED','{"x": 0.1, "opt": "sgd"}',NULL,'{}',NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,'{"source": "enqueued"}',0);
CREATE INDEX ix_trials_experiment_state ON trials (experiment_id, state);
COMMIT;
