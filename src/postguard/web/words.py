"""The text keys the pages choose at run time from a value: a verdict, a status, a role, a reason's code.

A template names such a text by its family and the value (``_("st_" + item.status)``); each family is
declared here, value by value, with ``N_`` so that extraction (``tools/catalogs.py``) finds every key a
page can ask for. A value added to a service's vocabulary needs its key here and its texts in the
catalogs (``tests/unit/test_texts.py`` checks the vocabularies the services publish).
"""

from __future__ import annotations

from postguard.i18n import N_

# action_<value>: my_data.html
ACTION = {"assign": N_("action_assign"), "break_glass": N_("action_break_glass"),
    "call_check": N_("action_call_check"), "call_intent": N_("action_call_intent"),
    "dsr_deletion_receipt": N_("action_dsr_deletion_receipt"),
    "lawful_disclosure": N_("action_lawful_disclosure"), "reveal": N_("action_reveal"),
    "reveal_denied": N_("action_reveal_denied"), "triangulate": N_("action_triangulate")}
# calls_status_<value>: staff_calls.html
CALLS_STATUS = {"pending": N_("calls_status_pending"), "verified": N_("calls_status_verified")}
# cat_<value>: intel_indicator.html, intel_stats.html, report.html
CAT = {"account_takeover": N_("cat_account_takeover"), "fake_authority": N_("cat_fake_authority"),
    "fake_bank": N_("cat_fake_bank"), "fake_courier": N_("cat_fake_courier"), "fake_police": N_("cat_fake_police"),
    "fake_telco": N_("cat_fake_telco"), "fake_website": N_("cat_fake_website"), "investment": N_("cat_investment"),
    "job_task": N_("cat_job_task"), "loan": N_("cat_loan"), "malware_app": N_("cat_malware_app"),
    "other": N_("cat_other"), "romance": N_("cat_romance"), "shopping": N_("cat_shopping")}
# cc_asked_<value>: callcheck.html
CC_ASKED = {"app": N_("cc_asked_app"), "fee": N_("cc_asked_fee"), "link": N_("cc_asked_link"),
    "otp": N_("cc_asked_otp"), "transfer": N_("cc_asked_transfer")}
# cc_claims_<value>: callcheck.html
CC_CLAIMS = {"bank": N_("cc_claims_bank"), "courier": N_("cc_claims_courier"), "none": N_("cc_claims_none")}
# cc_flag_<value>: callcheck.html
CC_FLAG = {"amount_differs": N_("cc_flag_amount_differs"), "amount_unverified": N_("cc_flag_amount_unverified"),
    "app": N_("cc_flag_app"), "fee": N_("cc_flag_fee"), "foreign_number": N_("cc_flag_foreign_number"),
    "link": N_("cc_flag_link"), "no_app_call": N_("cc_flag_no_app_call"), "otp": N_("cc_flag_otp"),
    "reported_number": N_("cc_flag_reported_number"), "transfer": N_("cc_flag_transfer"),
    "voip_number": N_("cc_flag_voip_number")}
# cc_kind_<value>: callcheck.html
CC_KIND = {"personal_number": N_("cc_kind_personal_number"), "uan": N_("cc_kind_uan"), "voip": N_("cc_kind_voip")}
# cc_never_<value>: callcheck.html
CC_NEVER = {"app": N_("cc_never_app"), "fee": N_("cc_never_fee"), "otp": N_("cc_never_otp"),
    "transfer": N_("cc_never_transfer")}
# clock_<value>: dpo_incidents.html, dpo_requests.html
CLOCK = {"done": N_("clock_done"), "late": N_("clock_late"), "open": N_("clock_open"),
    "overdue": N_("clock_overdue")}
# dsr_complete_<value>: dpo_requests.html
DSR_COMPLETE = {"access": N_("dsr_complete_access"), "correction": N_("dsr_complete_correction"),
    "deletion": N_("dsr_complete_deletion"), "due": N_("dsr_complete_due")}
# dsr_kind_<value>: dpo_requests.html, my_data.html
DSR_KIND = {"access": N_("dsr_kind_access"), "correction": N_("dsr_kind_correction"),
    "deletion": N_("dsr_kind_deletion")}
# dsr_msg_<value>: dpo_requests.html
DSR_MSG = {"acknowledged": N_("dsr_msg_acknowledged"), "completed": N_("dsr_msg_completed"),
    "waiting": N_("dsr_msg_waiting")}
# dsr_status_<value>: dpo_requests.html, my_data.html
DSR_STATUS = {"acknowledged": N_("dsr_status_acknowledged"), "completed": N_("dsr_status_completed"),
    "received": N_("dsr_status_received")}
# feedback_expected_<value>: check_feedback.html, check_feedback_page.html
FEEDBACK_EXPECTED = {"legit": N_("feedback_expected_legit"), "scam": N_("feedback_expected_scam"),
    "suspicious": N_("feedback_expected_suspicious")}
# ia_done_<value>: intel_appeals.html
IA_DONE = {"rejected": N_("ia_done_rejected"), "upheld": N_("ia_done_upheld")}
# ia_status_<value>: intel_appeals.html
IA_STATUS = {"rejected": N_("ia_status_rejected"), "upheld": N_("ia_status_upheld")}
# id_<value>: intel_indicator.html
ID = {"accept": N_("id_accept"), "clear": N_("id_clear"), "confirm": N_("id_confirm"), "delist": N_("id_delist"),
    "dispute": N_("id_dispute"), "reject": N_("id_reject")}
# inc_msg_<value>: dpo_incidents.html
INC_MSG = {"notified": N_("inc_msg_notified"), "recorded": N_("inc_msg_recorded")}
# io_done_<value>: intel_official.html
IO_DONE = {"revoked": N_("io_done_revoked"), "verified": N_("io_done_verified")}
# io_kind_<value>: intel_official.html
IO_KIND = {"app": N_("io_kind_app"), "cod_account": N_("io_kind_cod_account"), "domain": N_("io_kind_domain"),
    "ewallet": N_("io_kind_ewallet"), "hotline": N_("io_kind_hotline"), "sms_brand": N_("io_kind_sms_brand"),
    "social": N_("io_kind_social")}
# iq_reason_<value>: intel_queue.html
IQ_REASON = {"appeal": N_("iq_reason_appeal"), "corroborated": N_("iq_reason_corroborated"),
    "disputed": N_("iq_reason_disputed"), "new_reports": N_("iq_reason_new_reports"),
    "official_reported": N_("iq_reason_official_reported")}
# ir_kind_<value>: intel_indicator.html
IR_KIND = {"anonymous": N_("ir_kind_anonymous"), "citizen": N_("ir_kind_citizen"), "org": N_("ir_kind_org"),
    "scanner": N_("ir_kind_scanner")}
# ir_status_<value>: intel_indicator.html
IR_STATUS = {"accepted": N_("ir_status_accepted"), "held": N_("ir_status_held"), "merged": N_("ir_status_merged"),
    "rejected": N_("ir_status_rejected")}
# itype_<value>: intel_appeals.html, intel_indicator.html, intel_queue.html
ITYPE = {"app": N_("itype_app"), "bank_account": N_("itype_bank_account"), "domain": N_("itype_domain"),
    "ewallet": N_("itype_ewallet"), "phone": N_("itype_phone"), "sms_brand": N_("itype_sms_brand"),
    "social": N_("itype_social"), "url": N_("itype_url")}
# iv_<value>: intel_appeals.html, intel_indicator.html, intel_queue.html
IV = {"confirmed": N_("iv_confirmed"), "corroborated": N_("iv_corroborated"), "delisted": N_("iv_delisted"),
    "disputed": N_("iv_disputed"), "official": N_("iv_official"), "reported": N_("iv_reported"),
    "unknown": N_("iv_unknown")}
# kind_<value>: audit_alerts.html
KIND = {"anomaly": N_("kind_anomaly"), "break_glass": N_("kind_break_glass"),
    "canary_contact": N_("kind_canary_contact"), "canary_reveal": N_("kind_canary_reveal")}
# me_actor_<value>: my_data.html
ME_ACTOR = {"citizen": N_("me_actor_citizen"), "data_subject": N_("me_actor_data_subject"),
    "system": N_("me_actor_system"), "you": N_("me_actor_you")}
# me_as_<value>: my_data.html
ME_AS = {"recipient": N_("me_as_recipient"), "sender": N_("me_as_sender")}
# message_label_<value>: check.html
MESSAGE_LABEL = {"legit": N_("message_label_legit"), "scam": N_("message_label_scam"),
    "suspicious": N_("message_label_suspicious")}
# message_type_<value>: check.html
MESSAGE_TYPE = {"amount": N_("message_type_amount"), "app": N_("message_type_app"),
    "bank_account": N_("message_type_bank_account"), "brand": N_("message_type_brand"),
    "domain": N_("message_type_domain"), "ewallet": N_("message_type_ewallet"), "phone": N_("message_type_phone"),
    "sms_brand": N_("message_type_sms_brand"), "social": N_("message_type_social"), "url": N_("message_type_url")}
# note_<value>: check.html
NOTE = {"holder_may_be_mule_or_victim": N_("note_holder_may_be_mule_or_victim"), "idn_host": N_("note_idn_host")}
# purpose_<value>: my_data.html
PURPOSE = {"appeal_review": N_("purpose_appeal_review"), "blocklist_publish": N_("purpose_blocklist_publish"),
    "break_glass": N_("purpose_break_glass"), "call_check": N_("purpose_call_check"),
    "call_setup": N_("purpose_call_setup"), "canary_issue": N_("purpose_canary_issue"),
    "courier_own_numbers": N_("purpose_courier_own_numbers"), "customer_service": N_("purpose_customer_service"),
    "data_subject": N_("purpose_data_subject"), "delivery": N_("purpose_delivery"),
    "dsr_contact": N_("purpose_dsr_contact"), "dsr_export": N_("purpose_dsr_export"),
    "dsr_match": N_("purpose_dsr_match"), "dsr_notice": N_("purpose_dsr_notice"),
    "evidence_bundle": N_("purpose_evidence_bundle"), "evidence_files": N_("purpose_evidence_files"),
    "indicator_review": N_("purpose_indicator_review"), "indicator_share": N_("purpose_indicator_share"),
    "lawful_disclosure": N_("purpose_lawful_disclosure"), "lawful_match": N_("purpose_lawful_match"),
    "lawful_scope": N_("purpose_lawful_scope"), "lookup_index": N_("purpose_lookup_index"),
    "masked_call": N_("purpose_masked_call"), "message_feedback_export": N_("purpose_message_feedback_export"),
    "message_feedback_review": N_("purpose_message_feedback_review"),
    "passport_record": N_("purpose_passport_record"), "payment_check": N_("purpose_payment_check"),
    "phone_search": N_("purpose_phone_search"), "report_review": N_("purpose_report_review"),
    "subscriber_reverify": N_("purpose_subscriber_reverify"),
    "subscriber_scam_match": N_("purpose_subscriber_scam_match"),
    "subscriber_suspend": N_("purpose_subscriber_suspend"),
    "takedown_evidence": N_("purpose_takedown_evidence"), "takedown_report_text": N_("purpose_takedown_report_text")}
# reason_<value>: check.html, intel_indicator.html, intel_queue.html
REASON = {"age": N_("reason_age"), "age_words": N_("reason_age_words"), "confirmation_lapsed": N_("reason_confirmation_lapsed"),
    "confirmed": N_("reason_confirmed"), "decayed": N_("reason_decayed"), "delisted": N_("reason_delisted"),
    "disputed": N_("reason_disputed"), "distinct_reporters": N_("reason_distinct_reporters"),
    "evidence": N_("reason_evidence"), "needs_identified_reporters": N_("reason_needs_identified_reporters"),
    "no_reports": N_("reason_no_reports"), "official_channel": N_("reason_official_channel"),
    "reports": N_("reason_reports"), "reports_under_review": N_("reason_reports_under_review")}
# reveal_masked_<value>: reveal.html
REVEAL_MASKED = {"call": N_("reveal_masked_call"), "no_proxy_pool": N_("reveal_masked_no_proxy_pool"),
    "no_recipient_phone": N_("reveal_masked_no_recipient_phone"),
    "no_verified_number": N_("reveal_masked_no_verified_number"), "not_assigned": N_("reveal_masked_not_assigned"),
    "note": N_("reveal_masked_note"), "proxy_busy": N_("reveal_masked_proxy_busy")}
# role_<value>: audit_triangulation.html, my_data.html, staff_base.html
ROLE = {"admin": N_("role_admin"), "analyst": N_("role_analyst"), "auditor": N_("role_auditor"),
    "courier": N_("role_courier"), "cs": N_("role_cs"), "dpo": N_("role_dpo"), "hub": N_("role_hub")}
# severity_<value>: audit_alerts.html
SEVERITY = {"critical": N_("severity_critical"), "high": N_("severity_high"), "low": N_("severity_low"),
    "medium": N_("severity_medium")}
# st_<value>: assign.html, deliveries.html, delivery.html, my_data.html
ST = {"cancelled": N_("st_cancelled"), "created": N_("st_created"), "delivered": N_("st_delivered"),
    "in_transit": N_("st_in_transit"), "out_for_delivery": N_("st_out_for_delivery"),
    "picked_up": N_("st_picked_up"), "returned": N_("st_returned")}
# stage_<value>: audit_triangulation.html
STAGE = {"after_delivery": N_("stage_after_delivery"), "before_pickup": N_("stage_before_pickup"),
    "in_hub": N_("stage_in_hub"), "out_for_delivery": N_("stage_out_for_delivery")}
# status_<value>: audit_alerts.html
STATUS = {"acknowledged": N_("status_acknowledged"), "all": N_("status_all"), "open": N_("status_open")}
# verdict_<value>: check.html, report.html
VERDICT = {"confirmed": N_("verdict_confirmed"), "corroborated": N_("verdict_corroborated"),
    "delisted": N_("verdict_delisted"), "disputed": N_("verdict_disputed"), "lookalike": N_("verdict_lookalike"),
    "official": N_("verdict_official"), "reported": N_("verdict_reported"), "suspicious": N_("verdict_suspicious"),
    "unknown": N_("verdict_unknown")}
# verdict_word_<value>: callcheck.html
VERDICT_WORD = {"confirmed": N_("verdict_word_confirmed"), "corroborated": N_("verdict_word_corroborated"),
    "disputed": N_("verdict_word_disputed"), "reported": N_("verdict_word_reported")}
# ih_<value>: intel_indicator.html (an indicator's history: analysts' decisions, reports, channels, appeals)
INDICATOR_HISTORY = {"appeal_rejected": N_("ih_appeal_rejected"), "appeal_upheld": N_("ih_appeal_upheld"),
    "clear": N_("ih_clear"), "confirm": N_("ih_confirm"), "delist": N_("ih_delist"), "dispute": N_("ih_dispute"),
    "official_revoked": N_("ih_official_revoked"), "official_verified": N_("ih_official_verified"),
    "report_accept": N_("ih_report_accept"), "report_reject": N_("ih_report_reject")}
# sim_state_<value>: sim_queue.html, sim_case.html (a case's state; None: before its first state)
SIM_STATE = {"open": N_("sim_state_open"), "flagged": N_("sim_state_flagged"), "contacted": N_("sim_state_contacted"),
             "reverified": N_("sim_state_reverified"), "suspended": N_("sim_state_suspended"),
             "cleared": N_("sim_state_cleared"), "None": N_("sim_state_None")}
# verify_problem_<code>: audit_verify.html (postguard.audit.log.PROBLEM_CODES; {index}, {size})
VERIFY_PROBLEM = {c: k for c, k in (
    ("missing", N_("verify_problem_missing")), ("time", N_("verify_problem_time")),
    ("signature", N_("verify_problem_signature")), ("note", N_("verify_problem_note")),
    ("tail_missing", N_("verify_problem_tail_missing")), ("checkpoint", N_("verify_problem_checkpoint")),
    ("not_canonical", N_("verify_problem_not_canonical")), ("not_json", N_("verify_problem_not_json")),
    ("moved", N_("verify_problem_moved")), ("columns", N_("verify_problem_columns")),
    ("time_differs", N_("verify_problem_time_differs")), ("leaf_hash", N_("verify_problem_leaf_hash")),
    ("not_ours", N_("verify_problem_not_ours")), ("other", N_("verify_problem_other")))}
