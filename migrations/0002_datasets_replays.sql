CREATE TABLE "dataset_cases" (
	"id" uuid PRIMARY KEY NOT NULL,
	"dataset_id" uuid NOT NULL,
	"seq" integer NOT NULL,
	"input" jsonb,
	"expected" jsonb,
	"tracked_fields" jsonb,
	"source_run_id" uuid,
	"tenant_id" text,
	"environment" text,
	"input_redacted" boolean DEFAULT false NOT NULL
);
--> statement-breakpoint
CREATE TABLE "datasets" (
	"id" uuid PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"chain_id" text NOT NULL,
	"filter" jsonb,
	"cases" integer DEFAULT 0 NOT NULL,
	"redacted_inputs" integer DEFAULT 0 NOT NULL,
	"fields" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "replay_cases" (
	"replay_id" uuid NOT NULL,
	"case_id" uuid NOT NULL,
	"repeat" integer NOT NULL,
	"seq" integer NOT NULL,
	"output" jsonb,
	"error" jsonb,
	"overridden" boolean NOT NULL,
	"fields" jsonb NOT NULL,
	"latency_ms" real NOT NULL,
	"prompt_tokens" integer,
	"completion_tokens" integer,
	"at" timestamp with time zone NOT NULL,
	CONSTRAINT "replay_cases_replay_id_case_id_repeat_pk" PRIMARY KEY("replay_id","case_id","repeat")
);
--> statement-breakpoint
CREATE TABLE "replays" (
	"id" uuid PRIMARY KEY NOT NULL,
	"dataset_id" uuid NOT NULL,
	"chain_id" text NOT NULL,
	"version" text NOT NULL,
	"concurrency" integer NOT NULL,
	"repeats" integer NOT NULL,
	"status" text NOT NULL,
	"total" integer NOT NULL,
	"rollout_id" uuid,
	"runner" text,
	"lease_until" timestamp with time zone,
	"error" text,
	"result" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
DROP INDEX "rollouts_one_active_idx";--> statement-breakpoint
ALTER TABLE "feedback" ADD COLUMN "corrections" jsonb;--> statement-breakpoint
ALTER TABLE "feedback" ADD COLUMN "tracked" jsonb;--> statement-breakpoint
ALTER TABLE "dataset_cases" ADD CONSTRAINT "dataset_cases_dataset_id_datasets_id_fk" FOREIGN KEY ("dataset_id") REFERENCES "public"."datasets"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "datasets" ADD CONSTRAINT "datasets_chain_id_chains_id_fk" FOREIGN KEY ("chain_id") REFERENCES "public"."chains"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "replay_cases" ADD CONSTRAINT "replay_cases_replay_id_replays_id_fk" FOREIGN KEY ("replay_id") REFERENCES "public"."replays"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "replay_cases" ADD CONSTRAINT "replay_cases_case_id_dataset_cases_id_fk" FOREIGN KEY ("case_id") REFERENCES "public"."dataset_cases"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "replays" ADD CONSTRAINT "replays_dataset_id_datasets_id_fk" FOREIGN KEY ("dataset_id") REFERENCES "public"."datasets"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "dataset_cases_seq_idx" ON "dataset_cases" USING btree ("dataset_id","seq");--> statement-breakpoint
CREATE INDEX "dataset_cases_tenant_idx" ON "dataset_cases" USING btree ("tenant_id");--> statement-breakpoint
CREATE INDEX "datasets_chain_idx" ON "datasets" USING btree ("chain_id","created_at");--> statement-breakpoint
CREATE INDEX "replay_cases_order_idx" ON "replay_cases" USING btree ("replay_id","seq","repeat");--> statement-breakpoint
CREATE INDEX "replays_dataset_idx" ON "replays" USING btree ("dataset_id","created_at");--> statement-breakpoint
CREATE INDEX "replays_open_idx" ON "replays" USING btree ("status") WHERE status IN ('queued', 'running');--> statement-breakpoint
CREATE UNIQUE INDEX "replays_gate_idx" ON "replays" USING btree ("rollout_id","version") WHERE rollout_id IS NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "rollouts_one_active_idx" ON "rollouts" USING btree ("chain_id") WHERE status IN ('gated', 'running', 'paused');