CREATE TABLE "shadow_runs" (
	"id" uuid PRIMARY KEY NOT NULL,
	"shadow_of" uuid NOT NULL,
	"rollout_id" uuid,
	"chain_id" text NOT NULL,
	"version" text,
	"tenant_id" text NOT NULL,
	"environment" text NOT NULL,
	"stage" integer,
	"created_at" timestamp with time zone NOT NULL,
	"finished_at" timestamp with time zone,
	"output" jsonb,
	"output_hashes" jsonb,
	"error" jsonb,
	"latency_ms" real,
	"prompt_tokens" integer,
	"completion_tokens" integer,
	"expected" jsonb,
	"feedback_at" timestamp with time zone,
	"control_overridden" boolean,
	"control_fields" jsonb,
	"candidate_overridden" boolean,
	"candidate_fields" jsonb,
	"scored_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "shadow_skips" (
	"rollout_id" uuid NOT NULL,
	"reason" text NOT NULL,
	"skipped" bigint DEFAULT 0 NOT NULL,
	CONSTRAINT "shadow_skips_rollout_id_reason_pk" PRIMARY KEY("rollout_id","reason")
);
--> statement-breakpoint
ALTER TABLE "runs" ADD COLUMN "shadow_run_id" uuid;--> statement-breakpoint
CREATE UNIQUE INDEX "shadow_runs_shadow_of_idx" ON "shadow_runs" USING btree ("shadow_of");--> statement-breakpoint
CREATE INDEX "shadow_runs_rollout_idx" ON "shadow_runs" USING btree ("rollout_id","tenant_id");--> statement-breakpoint
CREATE INDEX "shadow_runs_tenant_idx" ON "shadow_runs" USING btree ("tenant_id");--> statement-breakpoint
CREATE INDEX "shadow_runs_created_idx" ON "shadow_runs" USING btree ("created_at");