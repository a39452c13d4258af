"""Route scan results to the customer-harassment response team (カスタマーハラスメント対応チーム).

>>> from kasuhara_nlp.routing import Router, load_policy
>>> load_policy(None).rules[0].destinations
('queue',)

Nothing here imports the model, torch or ONNX Runtime: routing runs on results already written.
"""

from .alerts import Alert, alert_key
from .destinations import DeliveryError
from .policy import RoutingPolicy, Rule
from .policy_parse import check_min_scores, default_policy, load_policy, parse_policy
from .router import RouteSummary, Router, route_results_file
from .staff_report import StaffReportResult, report_message

__all__ = ["Alert", "DeliveryError", "RouteSummary", "Router", "RoutingPolicy", "Rule", "StaffReportResult",
           "alert_key", "check_min_scores", "default_policy", "load_policy", "parse_policy", "report_message",
           "route_results_file"]
