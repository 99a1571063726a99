"""Names people read for the codes in workflows/ (GLOSSARY.md): the one vocabulary, through Flask-Babel.

English msgids; the Chinese is in the catalogue. Documents that are Chinese whatever the reader's language
(mails, notices, reports) read these inside `flask_babel.force_locale("zh")`.
"""
from __future__ import annotations

from flask_babel import force_locale, lazy_gettext as _l, lazy_pgettext as _lp

KIND_LABELS = {"aid": _l("Aid request"), "proposal": _l("Rationalisation proposal"),
               "motion": _l("Congress motion")}

ROLE_LABELS = {
    "worker": _l("Worker"), "representative": _l("Congress representative"),
    "group_leader": _l("Group leader"), "union_staff": _l("Union staff"), "committee": _l("Committee"),
    "fund_manager": _l("Fund manager"), "evaluator": _l("Evaluator"),
    "motion_committee": _l("Motion committee"), "admin": _l("Administrator"),
}

# The roles a person holds towards one case (workflows/base.py PARTY_ROLES), as the case page names them.
PARTY_ROLE_LABELS = {
    "applicant": _l("The applicant"), "filer": _l("The group leader who applied"), "author": _l("The author"),
    "cosigner_candidate": _l("Other representatives of the session"),
    "assigned_evaluator": _l("The assigned evaluators"), "assigned_handler": _l("The handling department"),
    "receiving_handler": _l("The department that is to sign for it"),
    "co_handler": _l("The co-handling departments"),
    "cosigner": _l("The co-signers or co-proposers"),
    "visitor": _l("The assigned visitors"), "scheduler": _l("The system, automatically"),
}

# The columns a case list sorts by (casework.core.queries.SORTS), and the two ways.
SORT_LABELS = {"number": _l("Number"), "title": _l("Title"), "state": _l("State"), "deadline": _l("Deadline"),
               "created": _l("Created on"), "updated": _l("Last changed")}
DIRECTION_LABELS = {"asc": _l("Ascending"), "desc": _l("Descending")}

UNIT_LEVEL_LABELS = {"federation": _l("Union federation"), "branch": _l("Branch union"),
                     "group": _l("Union group")}

STATE_LABELS = {
    "draft": _l("Draft"), "submitted": _l("Submitted"), "returned": _l("Returned for information"),
    "verifying": _l("Being verified"), "pending_approval": _l("Awaiting approval"),
    "parent_approval": _l("Referred to the parent union for approval"),
    "posting": _l("Publicly posted"), "objection_review": _l("Objection under review"),
    "approved": _l("Approved"), "disbursed": _l("Disbursed"), "closed": _l("Closed"),
    "rejected": _l("Rejected"), "withdrawn": _l("Withdrawn"), "declined": _l("Declined"),
    "evaluating": _l("Being evaluated"), "graded": _l("Graded"), "implementing": _l("Being implemented"),
    "not_adopted": _l("Not adopted"), "implemented": _l("Implemented"), "rewarded": _l("Rewarded"),
    "cosigning": _l("Collecting co-signatures"), "lapsed": _l("Lapsed"), "handling": _l("Being handled"),
    "merged": _l("Merged"), "opinion": _l("Converted to opinion"), "not_filed": _l("Not filed"),
    "replied": _l("Replied"),
    # the register's and the board's workflows
    "proposed": _l("Awaiting the committee's vote"), "registered": _l("Registered"), "removed": _l("Removed"),
    "awaiting_signoff": _l("Awaiting sign-off"), "scheduled": _l("Scheduled"), "posted": _l("Posted"),
    "ended": _l("Ended"), "superseded": _l("Superseded"),
    # a supervision slip's
    "issued": _l("Issued"), "answered": _l("Answered"),
    # the call-back's workflow (回访)
    "due": _l("Call-back due"), "fixing": _l("Being handled again"), "fixed": _l("Handled again and re-rated"),
    "explained": _l("Explained"), "appealed": _l("Appeal before the committee"),
    "upheld": _l("Appeal upheld: rating set aside"), "dismissed": _l("Appeal dismissed: rating stands"),
    # the upward report's (年度上报)
    "accepted": _l("Accepted by the upper union"),
}

TRIGGER_LABELS = {
    "create": _l("Created"), "amend": _l("Details changed"), "submit": _l("Submit"), "return_for_info": _l("Return for information"),
    "resubmit": _l("Resubmit"), "start_verification": _l("Start verification"),
    "record_visit": _l("Record home visit"), "verify": _l("Finish verification"),
    "approve": _l("Approve"), "reject": _l("Reject"),
    "parent_approve": _l("Approve (parent union)"), "parent_reject": _l("Reject (parent union)"), "object": _l("Objection raised"),
    "dismiss_objection": _l("Dismiss objection"), "uphold_objection": _l("Uphold objection"),
    "end_posting": _l("End of posting period"), "disburse": _l("Disburse"),
    "confirm_receipt": _l("Confirm receipt"), "auto_close": _l("Closed automatically"),
    "withdraw": _l("Withdraw"),
    "withdraw_consent": _l("Withdraw consent"), "place_hold": _l("Place a legal hold"),
    "lift_hold": _l("Lift the legal hold"), "anonymise": _l("Anonymised after the retention period"),
    "accept": _l("Accept"), "decline": _l("Decline"), "score": _l("Score"),
    "grade": _l("Grade"), "adopt": _l("Adopt"), "not_adopt": _l("Do not adopt"),
    "report_implemented": _l("Report implementation"), "reward": _l("Grant reward"), "close": _l("Close"),
    "open_for_cosigning": _l("Open for co-signing"), "cosign": _l("Co-sign"),
    "withdraw_cosign": _l("Withdraw co-signature"), "lapse": _l("Lapsed"), "file": _l("File the motion"),
    "merge": _l("Merge"), "convert_to_opinion": _l("Convert to opinion"), "not_file": _l("Do not file"),
    "reply": _l("Reply"), "rate": _l("Rate the reply"), "rate_unsatisfied": _l("Unsatisfied: reopen"),
    "acknowledge": _l("Sign for it"), "return_misrouted": _l("Return as not ours"),
    "contribute": _l("Give the co-handling opinion"),
    "sign_off": _l("Sign off"), "end": _l("End of posting period"), "supersede": _l("Superseded by a correction"),
    "recheck": _l("Yearly re-check"), "remove": _l("Remove from the register"), "propose": _l("Propose again"),
    "progress": _l("Add a progress note"), "answer": _l("Answer the slip"),
    "rehandle": _l("Handed back for re-handling after a call-back"), "record": _l("Record the call-back"),
    "uphold_appeal": _l("Uphold the appeal"), "dismiss_appeal": _l("Dismiss the appeal"),
    "close_fixed": _l("Re-handled reply rated"),
    "accept_report": _l("Accept the report"), "return_report": _l("Return the report"),
}

FIELD_LABELS = {
    "category": _l("Category"), "amount_requested": _l("Amount requested (yuan)"),
    "circumstances": _l("Circumstances"), "applicant": _l("Applicant (user name)"),
    "reason": _l("Reason"), "visitors": _l("Visitors"), "visited_on": _l("Visit date"),
    "findings": _l("Findings"), "proposed_amount": _l("Proposed amount (yuan)"),
    "amount": _l("Amount (yuan)"), "answer": _l("Written answer"), "reconsider": _l("Reconsider the amount"),
    "method": _l("Payment method"), "reference": _l("Payment reference"), "evaluators": _l("Evaluators"),
    "reply": _l("Written reply"), "score": _l("Score (0-100)"), "comment": _l("Comment"),
    "department": _l("Department"), "co_departments": _l("Co-handling departments"),
    "deadline": _l("Deadline"), "result": _l("Result"), "benefit": _l("Yearly benefit (yuan)"),
    "bonus": _l("Benefit bonus (yuan)"), "into": _l("Merge into motion (id)"), "text": _l("Reply text"),
    "satisfaction": _l("Satisfaction"), "title": _l("Title"), "problem": _l("Problem"),
    "suggestion": _l("Suggestion"), "expected_benefit": _l("Expected benefit"), "reasons": _l("Reasons"),
    "proposal_text": _l("Proposed measures"), "session": _l("Congress session"),
    "household_size": _l("Household size"), "monthly_income": _l("Monthly household income (yuan)"),
    "cause": _l("Cause of hardship"), "diagnosis": _l("Diagnosis"), "hospital": _l("Hospital"),
    "out_of_pocket": _l("Out-of-pocket medical cost (yuan)"), "child_name": _l("Child's name"),
    "school": _l("School"), "admission_year": _l("Admission year"), "tuition": _l("Tuition (yuan)"),
    "coproposers": _l("Co-proposers"), "original": _l("Original proposal"),
    "progress": _l("Progress so far"), "details": _l("The category's questions"),
    "attitude": _l("Handling attitude"), "how": _l("How the call-back was made"),
    "notes": _l("What was said"), "outcome": _l("Call-back outcome"), "called_on": _l("Called back on"),
    "explanation": _l("Written explanation"),
}

CHOICE_LABELS = {
    "hardship": _l("Hardship relief"), "illness": _l("Serious illness relief"),
    "education": _l("Golden Autumn education aid"), "holiday_visit": _l("Holiday visit"),
    "bank_transfer": _l("Bank transfer"), "cash": _l("Cash"), "other": _l("Other"),
    "satisfied": _l("Satisfied"), "basically_satisfied": _l("Basically satisfied"),
    "unsatisfied": _l("Unsatisfied"),
    "excellent": _l("Excellent"), "good": _l("Good"), "general": _l("General"),
    "no_rating": _l("No rating"), "not_adopted": _l("Not adopted"),
    "phone": _l("By phone"), "visit": _l("Visit"), "meeting": _l("Meeting"),
    "fix": _l("Fix by a new date"), "explain": _l("Written explanation"), "appeal": _l("Appeal by the department"),
}

# A proposal's grade (评审等级): "not adopted" as a grade reads 不采纳, as a state 未采纳.
GRADE_LABELS = {"excellent": CHOICE_LABELS["excellent"], "good": CHOICE_LABELS["good"],
                "general": CHOICE_LABELS["general"], "not_adopted": _lp("proposal grade", "Not adopted")}

# How aid was paid, as a payment notice prints it.
METHOD_LABELS = {"bank_transfer": CHOICE_LABELS["bank_transfer"], "cash": CHOICE_LABELS["cash"],
                 "other": _lp("payment method", "Other")}

# Where a fund's income came from (救助基金的来源).
SOURCE_LABELS = {"union_dues": _l("Union dues"), "government": _l("Government subsidy"),
                 "donation": _l("One-day donation"), "other": _l("Other income")}

# The hardship register (困难职工档案).
HOUSEHOLD_GRADE_LABELS = {"general": _l("General hardship (一般困难)"), "special": _l("Special hardship (特别困难)")}
HOUSEHOLD_CAUSE_LABELS = {"illness": _l("Illness"), "disability": _l("Disability"),
                          "single_parent": _l("Single parent"), "spouse_unemployed": _l("Spouse unemployed"),
                          "children_in_school": _l("Children in school"), "disaster": _l("Disaster")}

# How a member gave their consent when a group leader applied for them.
CONSENT_HOW_LABELS = {"written": _l("Signed consent in writing"), "in_person": _l("Spoken consent in person"),
                      "phone": _l("Consent confirmed by phone")}

# The documents an aid request may carry.
DOC_LABELS = {"income_proof": _l("Income proof"), "medical_bills": _l("Medical bills"),
              "admission_letter": _l("Admission letter"), "visit_photo": _l("Visit photo"),
              "other": _l("Other document")}

# A board posting's title by what it discloses (公示名称).
BOARD_TITLES = {"aid": _l("Public notice of aid to workers in hardship"),
                "proposal": _l("Public notice of rationalisation proposal rewards"),
                "motion": _l("Public notice of the handling of congress motions"),
                "fund": _l("Public notice of the aid fund's income and spending")}

# A person's record as a roster import compares it.
ROSTER_FIELD_LABELS = {"name": _l("Name"), "phone": _lp("roster column", "Mobile phone"), "unit": _l("Unit"),
                       "id_number": _lp("roster column", "ID card number"), "roles": _l("Roles"),
                       "active": _l("Status")}

YES_NO = {True: _l("Yes"), False: _l("No"), None: ""}

# A congress session's status (CongressSession.status).
SESSION_STATUS_LABELS = {"preparing": _l("In preparation"), "open": _l("Open for motions"),
                         "closed": _lp("congress session", "Closed")}

OBJECTION_STATUS_LABELS = {"open": _l("Awaiting an answer"), "answered": _l("Answered")}


def state_label(kind: str, state: str) -> str:
    return str(STATE_LABELS.get(state, state))


def trigger_label(trigger: str) -> str:
    return str(TRIGGER_LABELS.get(trigger, trigger))


OBJECTION_KIND_LABELS = {"objection": _l("Objection"), "report": _l("Report")}

# A stay in a state read as the step of the work it is (办理环节), per kind: the annual reports' rows.
STEP_LABELS = {
    "aid": {"draft": _l("Filling in the request"), "submitted": _l("Acceptance"),
            "returned": _l("Supplying information"), "verifying": _l("Home visit and verification"),
            "pending_approval": _l("Committee approval"), "parent_approval": _l("Parent union approval"),
            "posting": _l("Public posting"),
            "objection_review": _l("Objection review"), "approved": _l("Payment"),
            "disbursed": _l("Confirmation of receipt")},
    "proposal": {"draft": _l("Writing the proposal"), "submitted": _l("Acceptance"),
                 "evaluating": _l("Evaluation"), "graded": _l("Adoption decision"),
                 "implementing": _l("Implementation"), "implemented": _l("Reward decision"),
                 "rewarded": _l("Publication")},
    "motion": {"draft": _l("Drafting"), "cosigning": _l("Co-signing"), "submitted": _l("Filing review"),
               "handling": _l("Handling and reply"), "opinion": _l("Reply to an opinion"),
               "replied": _l("Representative's rating")},
}

ANNUAL_REPORT_TITLES = {"aid": _l("Annual report on aid to workers in hardship"),
                        "proposal": _l("Annual report on rationalisation proposals"),
                        "motion": _l("Annual report on congress motions")}


def step_label(kind: str, state: str) -> str:
    return str(STEP_LABELS.get(kind, {}).get(state, state))


def choice_label(code: str) -> str:
    return str(CHOICE_LABELS.get(code, code))


def in_chinese(mapping: dict, code, default: str | None = None) -> str:
    """`mapping`'s label for `code` as the union's documents print it (notices, mails, reports): Chinese,
    whatever the language of the request that caused them; `default` (else the code) when there is none."""
    if code not in mapping:
        return code if default is None else default
    with force_locale("zh"):
        return str(mapping[code])


def chinese(message) -> str:
    """A catalogue message (lazy, with its values) as the union's own records print it: Chinese, whatever
    the language of the request that caused it."""
    with force_locale("zh"):
        return str(message)


# 督办单 (casework/supervision): a slip's colour and why it was issued, as notices and mails print them.
# An e-mail's place in the outbox (casework/notifications), as the scheduler's admin page shows it.
OUTBOX_STATUS_LABELS = {"pending": _l("waiting"), "sending": _l("sending"), "sent": _l("sent"),
                        "failed": _l("failed")}
SLIP_COLOUR_LABELS = {"blue": _l("Blue"), "yellow": _l("Yellow"), "red": _l("Red")}
SLIP_REASON_LABELS = {
    "overdue": _l("The handling deadline has passed"),
    "unsatisfied": _l("The result of the handling was rated unsatisfactory"),
    "no_progress": _l("No progress has been reported for a long time"),
    "deadline_near": _l("The handling deadline is near"),
    "staff": _l("Supervised by union staff"),
}
