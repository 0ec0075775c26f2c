"""Every id the bot gives Slack and listens for: grep a constant to find both the button (or modal)
that carries it and the listener that handles it.

Buttons carry only an id as their value (a question, escalation, request or section id; DEPS_EXCEPTION
carries the components it pre-fills, as JSON); modals carry it as private_metadata. The `block_id`s and
inner `action_id`s below are where a modal's listener reads what was typed.
"""

COMMAND = "/ospo"

# -- shortcuts (callback_id; the manifest's features.shortcuts) ---------------------------------------
ASK_SHORTCUT = "ask_ospo"  # message shortcut "Ask the OSPO about this"
APPROVAL_SHORTCUT = "request_approval"  # global shortcut "Request OSPO approval": opens APPROVAL_REQUEST

# -- Workflow Builder custom steps (the manifest's functions; function_executed's callback_id) -------------
APPROVAL_STEP = "request_ospo_approval"  # "Request OSPO approval": completes once the request is decided
LICENSE_STEP = "check_license"  # "Check a license": the policy's verdict for a use

# -- the help desk: buttons (action_id) ---------------------------------------------------------
FEEDBACK_UP = "feedback_up"
FEEDBACK_DOWN = "feedback_down"  # opens FEEDBACK_REASON
ESCALATE = "escalate"  # "Ask the OSPO team"
SHARE = "share"  # "Share in channel" under a private /ospo ask answer
SHOW_SECTION = "show_section"  # "Show quote" beside a candidate section when the bot is not sure; value: its section id
RESOLVE = "resolve"
SAVE_KNOWLEDGE = "save_knowledge"
DIGEST_ANSWER = "digest_answer"  # "Answer & save to knowledge base" in the digest; opens DIGEST_ANSWER_VIEW

# -- the help desk: modals (callback_id) and their inputs -------------------------------------------
FEEDBACK_REASON = "feedback_reason"
DIGEST_ANSWER_VIEW = "digest_answer"
REASON_BLOCK, REASON_TEXT = "reason", "text"  # the 👎 reason
ANSWER_BLOCK, ANSWER_TEXT = "answer", "text"  # the OSPO's answer from the digest

# -- approvals: buttons -------------------------------------------------------------------------
APPROVAL_OPEN = "approval_open"  # "Request approval" under an answer: opens APPROVAL_REQUEST
APPROVAL_TYPE = "approval_type"  # the request form's type chooser: the form is redrawn for that type
APPROVE = "approval_approve"  # Approve, Reject, Ask for info: each button opens the modal of the same id
REJECT = "approval_reject"
ASK_FOR_INFO = "approval_needs_info"
REOPEN = "approval_reopen"
ANSWER_INFO = "approval_answer"  # the requester's "Answer" (in the DM and the reminder): opens the modal of this id

# -- dependency checks (SBOMs and lockfiles shared with the bot) -----------------------------------
DEPS_EXCEPTION = "deps_exception"  # "Request an exception" under a failed check; value: what pre-fills the form

# -- approvals: modals and their inputs -------------------------------------------------------------
APPROVAL_REQUEST = "approval_request"  # the request form; each field's block_id is its name in bot.approvals
DECISIONS = {APPROVE: "approve", REJECT: "reject", ASK_FOR_INFO: "needs_info"}  # button / modal -> action
TYPE_BLOCK = "type"
FIELD_VALUE = "value"  # the action_id inside each field's block (and of the decision modals' inputs)
DECISION_BLOCK = "reason"  # the reason, conditions or answer typed in a decision or answer modal
BLANKET_BLOCK = "blanket"
BLANKET_OPTION = "blanket"
