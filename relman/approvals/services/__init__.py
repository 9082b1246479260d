"""The approval services (DESIGN.md rule 1): deciding steps, delegation, deadlines, the
inbox, readiness reviews and the CAB. Views, the API, the CLI and jobs call these."""
