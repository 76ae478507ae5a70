"""Running cutout unattended: resume, budget status, review list/approve/reject, events tail."""
