"""Reports over run directories: metric tables, ``metrics.json``, figures, one HTML page.

``envsuite report RUN_DIR [RUN_DIR ...]`` is the command line to it.
"""

from envsuite.report.build import print_report, write_report
from envsuite.report.collect import Report, RunMetrics, collect

__all__ = ["Report", "RunMetrics", "collect", "print_report", "write_report"]
