ALTER TABLE "chains" ADD COLUMN "tracked_fields" jsonb;--> statement-breakpoint
ALTER TABLE "feedback" ADD COLUMN "counted_fields" jsonb;