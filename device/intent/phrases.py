"""The words of the grammar: stock verbs, short replies, question openers, and the guards for orders, chatter and
prompt injections. Data plus small pure predicates over normalised tokens; the parsing itself is in ``grammar``.
"""

from __future__ import annotations

import re
from enum import Enum

from device.intent.command import Action


class Verb(Enum):
    """How a verb phrase decides the action (some depend on where the stock goes)."""

    PLAIN = "plain"  # the action as listed
    CARRY = "carry"  # take/pull/grab: a move when a destination is said, else a use
    BRING = "bring"  # bring/send/carry: always a move
    PUT = "put"  # put: a move when both ends are said, else an add


def _words(text: str) -> list[str]:
    return text.split()


def _table(spec: dict[Action, str]) -> dict[tuple[str, ...], Action]:
    table: dict[tuple[str, ...], Action] = {}
    for action, phrases in spec.items():
        for phrase in phrases.split(","):
            words = tuple(phrase.split())
            if words:
                table[words] = action
    return table


#: stock verb phrases -> action (normalised words; "86" is handled by the grammar, it is also a number)
VERBS = _table(
    {
        Action.OUT: """
            out of, run out of, ran out of, are out of, is out of, all out of, sold out, sold out of, no more,
            is gone, are gone, all gone, gone, is finished, are finished, finished, finished off, used up all,
            used all, used the last of, is out, are out, have no, got no, there is no, there are no, none left,
            out of stock, is empty, are empty, mark out, is all gone, are all gone, is done, are done""",
        Action.MOVE: """
            move, moved, moving, transfer, transferred, transferring, shift, shifted, relocate, relocated, swap,
            switch""",
        Action.WASTE: """
            waste, wasted, wasting, toss, tossed, tossing, threw out, throw out, thrown out, throwing out, through
            out, threw away, throw away, thrown away, throwing away, through away, bin, binned, binning, chuck,
            chucked, chuck out, chucked out, chucked away, dump, dumped, discard, discarded, spoil, spoiled, spoilt,
            went off, gone off, went bad, gone bad, has gone off, is bad, are bad, was bad, were bad, expired, has
            expired, have expired, dropped, drop, spilled, spilt, spill, broke, broken, burnt, burned, ruined, write
            off, wrote off, written off, writing off, lost, cracked, log waste, as waste, rotten, moldy, mouldy, went
            moldy, went mouldy, got rid of, out of date, went sour, gone sour, scrap, scrapped, trashed, trash""",
        Action.USE: """
            use, used, using, used up, opened, open, opening, went through, go through, going through, gone through,
            burned through, ran through, consumed, consume, sold, sell, prepped, removed, remove, subtract,
            subtracted, minus, deduct, deducted, take out, took out, taken out, pulled out, take off, took off,
            cooked, served, decrease, decreased, reduce, reduced, withdraw""",
        Action.ADD: """
            add, added, adding, receive, received, receiving, got a delivery of, a delivery of, delivery of,
            delivery, delivered, restock, restocked, restocking, put away, came in, come in, just in, arrived,
            bought, purchased, picked up, stock up, stocked up, plus, log, logged, check in, checked in, unloaded,
            top up, topped up, dropped off, drop off, took delivery of, take delivery of, increase, increased, got,
            in came, add on, came, come""",
        Action.SET: """
            set, count, counted, recount, recounted, counting, have, has, have got, has got, there are, there is,
            is at, are at, left, remaining, down to, make it, change, changed, update, updated, adjust, adjusted,
            correct, corrected, should be, in stock, on hand, stock level, stock count, we are at""",
        Action.QUERY: """
            running out of, running low on, low on, getting low on, short on, running short on""",
    }
)
#: verbs whose action depends on the destination
CONTEXT_VERBS: dict[tuple[str, ...], Verb] = {
    **{(w,): Verb.CARRY for w in _words("take took taking taken pull pulled grab grabbed")},
    **{(w,): Verb.BRING for w in _words("bring brought carry carried send sent")},
    **{(w,): Verb.PUT for w in _words("put putting")},
}
#: the weaker verb loses when two appear ("we have used 3 eggs" is a use)
PRIORITY = {
    Action.OUT: 0,
    Action.MOVE: 1,
    Action.WASTE: 2,
    Action.USE: 3,
    Action.ADD: 4,
    Action.QUERY: 5,
    Action.SET: 6,
}
#: weak verbs: a verb phrase that is only a verb when nothing stronger is said
WEAK = frozenset(
    {
        ("got",),
        ("have",),
        ("has",),
        ("left",),
        ("remaining",),
        ("drop",),
        ("open",),
        ("lost",),
        ("came",),
        ("come",),
    }
)
MAX_VERB_WORDS = max(len(k) for k in (*VERBS, *CONTEXT_VERBS))

QUESTION_OPENERS = frozenset(
    _words(
        """how what where which when do does did is are have has any anything got check show list tell give read
        should whats hows"""
    )
)
_EXPIRING = re.compile(
    r"\b(expir\w*|going off|go off|goes off|gone off|going bad|go bad|out of date|using up|use up|used up first|"
    r"use first|short dated|close to (its |their )?date|near (its |their )?date|about to turn|spoil\w* soon|"
    r"turning|on its last legs)\b"
)
_LOW = re.compile(
    r"\b(low on|running low|getting low|is low|are low|low stock|need to order|needs ordering|need ordering|"
    r"should (we|i) order|to order|order list|ordering list|shopping list|reorder|re order|below par|under par|"
    r"short on|running short|running out|what do we need|need restocking|needs restocking|restock list|"
    r"needs? (to be )?(re)?order(ed|ing)|"
    r"need more of|what are we out of|what is out|what is low|anything low)\b"
)


def asks_expiring(text: str) -> bool:
    return bool(_EXPIRING.search(text))


def asks_low(text: str) -> bool:
    return bool(_LOW.search(text))


#: words a question wraps around the item; dropped before matching the item
QUERY_NOISE = frozenset(
    _words(
        """how many much do does did we us have has got is are there left remaining any what which where the count
        on of for stock level levels check status inventory about enough still currently now tell me can you show
        look up in kept stored at our it looking quantity amount number total a an some more get give please know
        let find keep located location doing going whats hows expire expires expiring expiry when running low short
        need order should i out date soon this week today tomorrow next"""
    )
)

_SIZES = r"(large|medium|small|regular|tall|grande|venti|iced|hot|double|triple|single|decaf|skinny)"
_DRINKS = (
    r"(latte|lattes|cappuccino|cappuccinos|capp|flat white|flat whites|americano|americanos|mocha|mochas|"
    r"macchiato|macchiatos|cortado|cortados|frappe|frappuccino|chai|tea|teas|smoothie|smoothies|hot chocolate|"
    r"cold brew|matcha|babyccino|espresso|espressos|coffee|coffees|shot|shots|cocktail|cocktails|pint of \w+)"
)
_ORDER = re.compile(
    r"^(can|could|may) (i|we|you) (please )?(get|have|grab|order|take)\b|"
    r"\b(i|we) will (have|take|get|grab|do|order)\b|\b(i|we) would (like|love)\b|\b(i|we) am having\b|"
    r"^let me (get|have|grab)\b|^(give|get) (me|us) (a|an|one|two|three|four)\b|"
    r"\b(to go|for here|to take away|to take out|takeaway|take out|for takeout|for pickup|for delivery)$|"
    rf"\b{_SIZES} (\w+ )?{_DRINKS}\b|\b{_DRINKS} (with|no|without|extra)\b|"
    r"\b(medium rare|well done|on the side|no ice|extra shot|with a side of|for the table)\b|"
    r"\b(order|orders) (up|in|for|ready|number)\b|^order up$|\b(same again|another round|the bill|the check)\b"
)
_CHATTER = re.compile(
    r"\btable (number )?(\d+|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|"
    r"fifteen|sixteen|seventeen|eighteen|nineteen|twenty\w*|thirty\w*)\b|"
    r"\b(customer|customers|guest|guests|ticket|tickets|allergic|allergy|allergies|reservation|booking|covers|"
    r"server|waiter|waitress|rota|music|weather|game|joke|story|song|lights|oven|timer|alarm|wifi|"
    r"manager|boss|toilet|bathroom)\b|\bwhat time\b|\bout of time\b|\b(my|your|his|her|the|next|a) (shift|break)\b|"
    r"^(hot behind|behind|corner|heard|yes chef|oui chef|service|hands|walking in|fire|firing|pick up|ordering)\b"
)
_LIST_TARGET = re.compile(
    r"\b(to|on) (the |my |our )?(shopping|order|ordering|prep|to do|todo) list\b|\border$"
)
_INJECTION = re.compile(
    r"\b(ignore|disregard|forget|override|bypass)\b.*\b(instruction|instructions|rules|prompt|prompts|programming|"
    r"guidelines|guardrails|previous|above|prior|everything|all)\b|"
    r"\b(system|developer|admin|administrator|root|debug|maintenance|god|sudo|jailbreak|dan)\s+"
    r"(mode|prompt|message|override|access|command|commands|instruction|instructions|user)\b|"
    r"\b(you are now|from now on|act as|pretend|roleplay|role play|jailbreak|new instruction|new instructions|"
    r"prompt injection|system prompt|your instructions|your prompt|your rules|previous instructions|"
    r"api key|password|credentials|secret key|access token|env file|environment variable|sql|drop table|"
    r"rm rf|execute|run the command|repeat after me|say the following)\b|"
    r"\b(delete|wipe|erase|clear|reset|drop|destroy|purge|remove|zero|empty|nuke)( out)? (the |all |all the |my |"
    r"your |our |whole |entire |of )*(everything|database|db|inventory|journal|records|data|history|stock|items|"
    r"products|it all)\b|\b(delete|wipe|erase|destroy|purge|nuke)\b.*\b(everything|database|all)\b|"
    r"\b(set|make|change|update|put|mark)\b.*\b(everything|all (the )?(stock|items|inventory|products)|"
    r"every item|each item|every product|whole inventory|entire inventory)\b|"
    r"\b(print|reveal|show|repeat|output|say|tell me)\b.*\b(prompt|instructions|rules|system|configuration|config)\b"
)
_RAW_INJECTION = re.compile(
    r"^\s*\W*\s*(system|assistant|developer|admin|user|sys|root)\s*[:>\]|]|```|<\|?/?\w*\|?>|\{\{|\}\}|\$\{|"
    r"\[\s*(inst|system)\s*\]",
    re.IGNORECASE,
)


def is_injection(raw: str, text: str) -> bool:
    """A prompt injection or bulk destructive request: never a stock change."""
    return bool(_RAW_INJECTION.search(raw) or _INJECTION.search(text))


def is_order_or_chatter(text: str) -> bool:
    """A customer's order or kitchen chatter, not an inventory command."""
    return bool(_ORDER.search(text) or _CHATTER.search(text))


def targets_a_list(text: str) -> bool:
    """ "add eggs to the shopping list": a note for ordering, not stock that arrived."""
    return bool(_LIST_TARGET.search(text))
