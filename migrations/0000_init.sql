CREATE TABLE "api_keys" (
	"id" uuid PRIMARY KEY NOT NULL,
	"tenant_id" text,
	"name" text NOT NULL,
	"hash" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"revoked_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "chain_versions" (
	"chain_id" text NOT NULL,
	"version" text NOT NULL,
	"adapter" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "chain_versions_chain_id_version_pk" PRIMARY KEY("chain_id","version")
);
--> statement-breakpoint
CREATE TABLE "chains" (
	"id" text PRIMARY KEY NOT NULL,
	"description" text,
	"current_version" text,
	"redaction" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "default_env_rollups" (
	"chain_id" text NOT NULL,
	"version" text NOT NULL,
	"environment" text NOT NULL,
	"hour" timestamp with time zone NOT NULL,
	"runs" integer DEFAULT 0 NOT NULL,
	"errors" integer DEFAULT 0 NOT NULL,
	"fallbacks" integer DEFAULT 0 NOT NULL,
	"reviewed" integer DEFAULT 0 NOT NULL,
	"overridden" integer DEFAULT 0 NOT NULL,
	"latency_hist" numeric DEFAULT '0' NOT NULL,
	"prompt_tokens" bigint DEFAULT 0 NOT NULL,
	"completion_tokens" bigint DEFAULT 0 NOT NULL,
	"token_runs" integer DEFAULT 0 NOT NULL,
	"field_overrides" jsonb DEFAULT '{}'::jsonb NOT NULL,
	CONSTRAINT "default_env_rollups_chain_id_version_environment_hour_pk" PRIMARY KEY("chain_id","version","environment","hour")
);
--> statement-breakpoint
CREATE TABLE "default_rollups" (
	"chain_id" text NOT NULL,
	"version" text NOT NULL,
	"environment" text NOT NULL,
	"hour" timestamp with time zone NOT NULL,
	"tenant_id" text NOT NULL,
	"runs" integer DEFAULT 0 NOT NULL,
	"errors" integer DEFAULT 0 NOT NULL,
	"fallbacks" integer DEFAULT 0 NOT NULL,
	"reviewed" integer DEFAULT 0 NOT NULL,
	"overridden" integer DEFAULT 0 NOT NULL,
	"latency_hist" numeric DEFAULT '0' NOT NULL,
	"prompt_tokens" bigint DEFAULT 0 NOT NULL,
	"completion_tokens" bigint DEFAULT 0 NOT NULL,
	"token_runs" integer DEFAULT 0 NOT NULL,
	"field_overrides" jsonb DEFAULT '{}'::jsonb NOT NULL,
	CONSTRAINT "default_rollups_chain_id_version_tenant_id_environment_hour_pk" PRIMARY KEY("chain_id","version","tenant_id","environment","hour")
);
--> statement-breakpoint
CREATE TABLE "feedback" (
	"run_id" uuid PRIMARY KEY NOT NULL,
	"overridden" boolean NOT NULL,
	"fields" jsonb NOT NULL,
	"reviewer" text,
	"at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "flags" (
	"name" text PRIMARY KEY NOT NULL,
	"definition" jsonb NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "job_leases" (
	"name" text PRIMARY KEY NOT NULL,
	"holder" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "rollout_assignment_counts" (
	"rollout_id" uuid NOT NULL,
	"stage" integer NOT NULL,
	"variant" text NOT NULL,
	"keys" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "rollout_assignment_counts_rollout_id_stage_variant_pk" PRIMARY KEY("rollout_id","stage","variant")
);
--> statement-breakpoint
CREATE TABLE "rollout_assignment_keys" (
	"rollout_id" uuid NOT NULL,
	"stage" integer NOT NULL,
	"variant" text NOT NULL,
	"key_hash" uuid NOT NULL,
	"tenant_id" text NOT NULL,
	CONSTRAINT "rollout_assignment_keys_rollout_id_stage_variant_key_hash_pk" PRIMARY KEY("rollout_id","stage","variant","key_hash")
);
--> statement-breakpoint
CREATE TABLE "rollout_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"rollout_id" uuid NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"type" text NOT NULL,
	"actor" text NOT NULL,
	"reason" text,
	"data" jsonb
);
--> statement-breakpoint
CREATE TABLE "rollout_rollups" (
	"rollout_id" uuid NOT NULL,
	"hour" timestamp with time zone NOT NULL,
	"stage" integer NOT NULL,
	"variant" text NOT NULL,
	"tenant_id" text NOT NULL,
	"environment" text NOT NULL,
	"runs" integer DEFAULT 0 NOT NULL,
	"errors" integer DEFAULT 0 NOT NULL,
	"fallbacks" integer DEFAULT 0 NOT NULL,
	"reviewed" integer DEFAULT 0 NOT NULL,
	"overridden" integer DEFAULT 0 NOT NULL,
	"latency_hist" numeric DEFAULT '0' NOT NULL,
	"prompt_tokens" bigint DEFAULT 0 NOT NULL,
	"completion_tokens" bigint DEFAULT 0 NOT NULL,
	"token_runs" integer DEFAULT 0 NOT NULL,
	"field_overrides" jsonb DEFAULT '{}'::jsonb NOT NULL,
	CONSTRAINT "rollout_rollups_rollout_id_hour_stage_variant_tenant_id_environment_pk" PRIMARY KEY("rollout_id","hour","stage","variant","tenant_id","environment")
);
--> statement-breakpoint
CREATE TABLE "rollout_series" (
	"rollout_id" uuid NOT NULL,
	"grain" text NOT NULL,
	"t" timestamp with time zone NOT NULL,
	"variant" text NOT NULL,
	"runs" integer DEFAULT 0 NOT NULL,
	"errors" integer DEFAULT 0 NOT NULL,
	"fallbacks" integer DEFAULT 0 NOT NULL,
	"reviewed" integer DEFAULT 0 NOT NULL,
	"overridden" integer DEFAULT 0 NOT NULL,
	"latency_hist" numeric DEFAULT '0' NOT NULL,
	CONSTRAINT "rollout_series_rollout_id_grain_t_variant_pk" PRIMARY KEY("rollout_id","grain","t","variant")
);
--> statement-breakpoint
CREATE TABLE "rollout_totals" (
	"rollout_id" uuid NOT NULL,
	"stage" integer NOT NULL,
	"variant" text NOT NULL,
	"tenant_id" text NOT NULL,
	"environment" text NOT NULL,
	"runs" integer DEFAULT 0 NOT NULL,
	"errors" integer DEFAULT 0 NOT NULL,
	"fallbacks" integer DEFAULT 0 NOT NULL,
	"reviewed" integer DEFAULT 0 NOT NULL,
	"overridden" integer DEFAULT 0 NOT NULL,
	"latency_hist" numeric DEFAULT '0' NOT NULL,
	"prompt_tokens" bigint DEFAULT 0 NOT NULL,
	"completion_tokens" bigint DEFAULT 0 NOT NULL,
	"token_runs" integer DEFAULT 0 NOT NULL,
	"field_overrides" jsonb DEFAULT '{}'::jsonb NOT NULL,
	CONSTRAINT "rollout_totals_rollout_id_stage_variant_tenant_id_environment_pk" PRIMARY KEY("rollout_id","stage","variant","tenant_id","environment")
);
--> statement-breakpoint
CREATE TABLE "rollouts" (
	"id" uuid PRIMARY KEY NOT NULL,
	"chain_id" text NOT NULL,
	"control" text NOT NULL,
	"candidate" text NOT NULL,
	"status" text NOT NULL,
	"stage" integer NOT NULL,
	"flag" text NOT NULL,
	"spec" jsonb NOT NULL,
	"stage_started_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "runs" (
	"id" uuid PRIMARY KEY NOT NULL,
	"chain_id" text NOT NULL,
	"version" text NOT NULL,
	"variant" text NOT NULL,
	"rollout_id" uuid,
	"stage" integer,
	"assignment_key" text,
	"tenant_id" text NOT NULL,
	"environment" text NOT NULL,
	"unit" text,
	"external_id" text,
	"metadata" jsonb,
	"input" jsonb,
	"output" jsonb,
	"output_hashes" jsonb,
	"error" jsonb,
	"fallback" boolean DEFAULT false NOT NULL,
	"latency_ms" real NOT NULL,
	"upstream_ms" real,
	"prompt_tokens" integer,
	"completion_tokens" integer,
	"idempotency_key" text,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "settings" (
	"key" text PRIMARY KEY NOT NULL,
	"value" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "tenants" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "chain_versions" ADD CONSTRAINT "chain_versions_chain_id_chains_id_fk" FOREIGN KEY ("chain_id") REFERENCES "public"."chains"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "rollout_events" ADD CONSTRAINT "rollout_events_rollout_id_rollouts_id_fk" FOREIGN KEY ("rollout_id") REFERENCES "public"."rollouts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "rollouts" ADD CONSTRAINT "rollouts_chain_id_chains_id_fk" FOREIGN KEY ("chain_id") REFERENCES "public"."chains"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "api_keys_hash_idx" ON "api_keys" USING btree ("hash");--> statement-breakpoint
CREATE INDEX "rollout_events_rollout_idx" ON "rollout_events" USING btree ("rollout_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "rollouts_one_active_idx" ON "rollouts" USING btree ("chain_id") WHERE status IN ('running', 'paused');--> statement-breakpoint
CREATE INDEX "runs_tenant_created_idx" ON "runs" USING btree ("tenant_id","created_at","id");--> statement-breakpoint
CREATE INDEX "runs_created_idx" ON "runs" USING btree ("created_at","id");--> statement-breakpoint
CREATE INDEX "runs_chain_external_idx" ON "runs" USING btree ("chain_id","external_id","created_at");--> statement-breakpoint
CREATE INDEX "runs_rollout_idx" ON "runs" USING btree ("rollout_id","variant");--> statement-breakpoint
CREATE UNIQUE INDEX "runs_idempotency_idx" ON "runs" USING btree ("tenant_id","idempotency_key") WHERE idempotency_key IS NOT NULL;