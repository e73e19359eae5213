"""Writes the agreement/conflict eval suite (issue 14 item 3): short reports written for
this suite (no benchmark text), in pairs from two outlets that either disagree on the
thing asked (a number, a person, a place, a date, yes/no) or agree on it in other words,
plus single-source cases. Each case keeps retrieval to its own articles (filters).

    python evals/conflict_suite.py   # writes evals/data/conflicts_corpus.jsonl and
                                     # evals/conflicts.jsonl

Then: rag ingest evals/data/conflicts_corpus.jsonl --index-dir /tmp/conflicts
      rag eval evals/conflicts.jsonl --index-dir /tmp/conflicts --out /tmp/conflicts-report
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUTLETS = ("Ledger Wire", "Courier Daily", "Harbour Gazette", "Metro Post")

# kind, question, report A (with {v}), report B (other words, with {v}), value 1, value 2.
# Each report also carries details the other lacks (numbers, names, places) that are
# not the thing asked, so a check that compares everything raises false alarms.
SCENARIOS: list[tuple[str, str, str, str, str, str]] = [
    ("number", "How many people died when the ferry sank off Sulawesi?",
     "A ferry carrying 212 passengers sank off Sulawesi on Sunday. Rescuers said {v} people "
     "died in the sinking. The vessel had left port two hours earlier.",
     "At least {v} people died after a ferry sank off the coast of Sulawesi, officials said. "
     "Divers searched the wreck through the night near Bitung.", "41", "29"),
    ("number", "How many container ships were stranded by the storm in Valencia?",
     "The storm in Valencia stranded {v} container ships off the coast. Winds reached 110 "
     "kilometres an hour on Tuesday.",
     "Port officials in Valencia said {v} container ships were stranded at anchor by the "
     "storm. Three shelters opened for dock workers.", "40", "25"),
    ("number", "How many jobs will the carmaker cut in Saxony?",
     "The carmaker will cut {v} jobs at its plants in Saxony, the company said. Its profit "
     "fell by 12 percent last year.",
     "Workers in Saxony learned on Monday that the carmaker plans to cut {v} jobs there. The "
     "union called a meeting for Friday.", "3,000", "1,800"),
    ("number", "How many votes did the tram extension get in the city council?",
     "The city council approved the tram extension with {v} votes on Monday evening. The "
     "line will be 4.2 kilometres long.",
     "The tram extension passed the city council with {v} votes after a heated debate. "
     "Construction starts next spring.", "31", "27"),
    ("number", "What percentage pay rise did the dock workers accept?",
     "Dock workers accepted a {v} percent pay rise, ending the strike. Container traffic "
     "resumed on Wednesday.",
     "The strike ended after dock workers agreed to a {v} percent pay rise, the union said. "
     "The talks lasted 19 hours.", "6", "4"),
    ("person", "Who won the mayoral election in Brno?",
     "{v} won the mayoral election in Brno on Saturday. Turnout was 48 percent.",
     "The mayoral election in Brno was won by {v}, according to final results. The new "
     "mayor takes office in November.", "Petra Novakova", "Tomas Dvorak"),
    ("person", "Who was appointed the new coach of the national football team?",
     "The federation appointed {v} as the new coach of the national football team. The "
     "contract runs until 2028.",
     "{v} is the new coach of the national football team, the federation announced on "
     "Thursday in Lisbon.", "Marco Rinaldi", "Jorge Alves"),
    ("person", "Who won the Booker Prize?",
     "The novelist {v} won the Booker Prize on Tuesday night in London. The judges praised "
     "the book's structure.",
     "{v} was named winner of the Booker Prize at a ceremony in London. The prize is worth "
     "50,000 pounds.", "Amara Okafor", "Lena Fischer"),
    ("person", "Who leads the inquiry into the bridge collapse?",
     "Retired judge {v} leads the inquiry into the bridge collapse in Genoa. The inquiry "
     "will report within a year.",
     "The inquiry into the Genoa bridge collapse is led by {v}, the ministry said. Families "
     "of the victims welcomed it.", "Carla Benedetti", "Paolo Ferri"),
    ("person", "Who was elected speaker of the parliament?",
     "Lawmakers elected {v} speaker of the parliament on Wednesday. The vote was held in "
     "secret.",
     "{v} became speaker of the parliament after a vote by lawmakers in the capital. The "
     "opposition boycotted the session.", "Andrzej Kowal", "Marta Zielinska"),
    ("place", "Where will the climate summit be held?",
     "The next climate summit will be held in {v}, the organisers said. About 40,000 "
     "delegates are expected.",
     "Organisers chose {v} to host the next climate summit. The decision followed months "
     "of talks.", "Tampa", "Glendale"),
    ("place", "Where did the magnitude 6.8 earthquake strike?",
     "A magnitude 6.8 earthquake struck near {v} on Monday night. No tsunami warning was "
     "issued.",
     "The magnitude 6.8 earthquake hit near {v}, the seismology centre said. Residents "
     "spent the night outdoors.", "Antofagasta", "Calama"),
    ("place", "Where will the new battery factory be built?",
     "The company will build its new battery factory in {v}, creating 2,000 jobs. "
     "Production starts in 2027.",
     "The new battery factory will be built in {v}, the company confirmed on Friday. The "
     "site covers 90 hectares.", "Szeged", "Debrecen"),
    ("place", "Where was the stolen painting found?",
     "Police found the stolen painting in {v} on Thursday. It had been missing for six "
     "years.",
     "The stolen painting turned up in {v}, police said. Two men were arrested at the "
     "scene.", "Rotterdam", "Antwerp"),
    ("place", "Where did the train derail?",
     "The train derailed near {v} early on Sunday. Forty passengers were taken to "
     "hospital.",
     "A passenger train derailed outside {v}, the railway operator said. The line will stay "
     "closed until Tuesday.", "Ostrava", "Olomouc"),
    ("date", "When will the bridge reopen?",
     "The bridge will reopen on {v}, the transport ministry said. Repairs cost 12 million "
     "euros.",
     "Drivers can use the bridge again from {v}, according to the city. The repairs took "
     "eight months.", "14 March", "2 April"),
    ("date", "When will the general election be held?",
     "The general election will be held on {v}, the president announced. Campaigning "
     "starts in three weeks.",
     "Voters will go to the polls on {v} in a general election, the electoral commission "
     "confirmed.", "9 June", "23 June"),
    ("date", "When does the new metro line open?",
     "The new metro line opens on {v}, the transit authority said. It has 14 stations.",
     "Passengers can ride the new metro line from {v}, officials said at a ceremony on "
     "Monday.", "1 September", "15 October"),
    ("date", "When will the trial begin?",
     "The trial of the former minister will begin on {v}, the court said. He denies all "
     "charges.",
     "The former minister's trial begins on {v}, according to court documents seen by "
     "reporters.", "3 February", "17 February"),
    ("date", "When will the museum reopen?",
     "The national museum will reopen on {v} after renovation. The work cost 80 million "
     "euros.",
     "The national museum reopens to visitors on {v}, its director said. Tickets go on "
     "sale next week.", "12 May", "30 June"),
    ("yes/no", "Did the central bank raise interest rates?",
     "The central bank {v} at its meeting on Thursday. Inflation stood at 3.1 percent.",
     "At Thursday's meeting the central bank {v}, the governor told reporters.",
     "raised interest rates", "did not raise interest rates"),
    ("yes/no", "Did the senate approve the budget?",
     "The senate {v} on Tuesday after a long debate. The vote was close.",
     "Senators {v2} late on Tuesday, the senate press office said.",
     "approved the budget", "rejected the budget"),
    ("yes/no", "Was the airport closed because of the ash cloud?",
     "The airport {v} on Monday. Airlines cancelled some flights as the ash cloud drifted "
     "east.",
     "Because of the ash cloud the airport {v}, the aviation authority said on Monday.",
     "was closed", "was not closed"),
    ("yes/no", "Did the striking nurses accept the offer?",
     "The striking nurses {v} from the health ministry on Friday.",
     "On Friday the striking nurses {v} made by the health ministry, their union said.",
     "accepted the offer", "rejected the offer"),
]

AGREE_TAILS = [
    "Local officials confirmed the account in separate interviews with this newspaper.",
    "Reporters at the scene spoke with several residents who described the same events.",
    "Further details are expected at a news conference later in the week, aides said.",
]
SINGLE = [0, 5, 10, 15, 20, 3]  # scenarios also asked with only one report


def _text(template: str, value: str) -> str:
    return template.replace("{v2}", value).replace("{v}", value)


def build() -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    corpus: list[dict[str, object]] = []
    cases: list[dict[str, object]] = []
    for number, (kind, question, first, second, v1, v2) in enumerate(SCENARIOS):
        slug = f"s{number:02d}"
        for variant, values in (("conflict", (v1, v2)), ("agree", (v1, v1))):
            # The agreeing pair reuses the first report (one article, not a copy of it);
            # its second report is told apart from the conflicting one by a closing line.
            ids = [f"{slug}-conflict-a"] if variant == "agree" else []
            for side, (template, value) in enumerate(zip((first, second), values, strict=True)):
                if variant == "agree" and side == 0:
                    continue
                article_id = f"{slug}-{variant}-{'ab'[side]}"
                ids.append(article_id)
                tail = f" {AGREE_TAILS[number % len(AGREE_TAILS)]}" if variant == "agree" else ""
                corpus.append({
                    "id": article_id, "title": f"{question.rstrip('?')} ({variant})",
                    "text": _text(template, value) + tail,
                    "source": OUTLETS[(number + side) % 4],
                    "date": f"2026-03-{10 + side * 4:02d}",
                    "url": f"https://{OUTLETS[(number + side) % 4].lower().replace(' ', '')}"
                    f".example/{article_id}",
                })
            cases.append({
                "id": f"{slug}-{variant}", "question": question,
                "filters": {"article_ids": ids}, "as_of": "2026-03-20",
                "conflict_kind": kind, "expect_conflict": variant == "conflict",
            })
        if number in SINGLE:
            cases.append({
                "id": f"{slug}-single", "question": question,
                "filters": {"article_ids": [f"{slug}-conflict-a"]}, "as_of": "2026-03-20",
                "conflict_kind": kind, "expect_conflict": False, "single_source": True,
            })
    return corpus, cases


def main() -> None:
    corpus, cases = build()
    (HERE / "data").mkdir(exist_ok=True)
    with (HERE / "data" / "conflicts_corpus.jsonl").open("w", encoding="utf-8") as out:
        out.writelines(json.dumps(row) + "\n" for row in corpus)
    with (HERE / "conflicts.jsonl").open("w", encoding="utf-8") as out:
        out.writelines(json.dumps(row) + "\n" for row in cases)
    print(f"{len(corpus)} articles, {len(cases)} cases")


if __name__ == "__main__":
    main()
