"""The sections of the report, one module each; every one is a mixin of :class:`~attribution.report.Report`."""
