"""`python -m pipelines ...`: import, demo, user, export, retention, backup, restore, bench.

Every command creates and migrates the database when it does not exist yet. Exit codes:
0 success, 1 rejected (e.g. an import with errors), 2 unusable call, unreadable file or
a database that cannot be opened. Messages are Dutch; no tracebacks reach the user.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dossier.db import Database, DatabaseBusyError, default_path


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse exits with 2 on a bad call, as the contract wants
        self.print_usage(sys.stderr)
        self.exit(2, f"Ongeldige opdracht: {message}\n")


def _open(path: str | None) -> Database:
    return Database(Path(path) if path else default_path())


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m pipelines", description="Leerlingendossier: opdrachtregel")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("import", help="een importbestand (CSV of XLSX) inlezen")
    p.add_argument("file")
    p.add_argument("--db")
    p.add_argument(
        "--format",
        default="auto",
        choices=["auto", "leerlingen", "lvs-vclb", "avi", "dmt", "idp", "welbevinden"],
    )
    p.add_argument("--dry-run", action="store_true")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("demo", help="een fictieve demoschool aanmaken")
    p.add_argument("--db")
    p.add_argument("--pupils", type=int, default=250)
    p.add_argument("--seed", type=int, default=2024)
    p.add_argument("--years", type=int, default=3, help="aantal schooljaren tot en met het huidige (1-12)")
    p.add_argument("--if-empty", action="store_true", help="enkel als de databank nog leeg is")

    p = sub.add_parser("user", help="personeelsaccounts")
    user_sub = p.add_subparsers(dest="user_command", required=True, parser_class=_Parser)
    add = user_sub.add_parser("add", help="een account aanmaken")
    add.add_argument("--name", required=True, help="volledige naam")
    add.add_argument("--role", required=True, choices=["leerkracht", "zorgteam", "directie", "clb", "beheerder"])
    add.add_argument("--classes", default="", help="klassen van dit schooljaar, komma-gescheiden (leerkracht)")
    add.add_argument("--username", help="aanmeldnaam (standaard afgeleid van de naam)")
    add.add_argument("--email")
    add.add_argument("--password", help="wachtwoord (standaard: een willekeurig, eenmalig getoond)")
    add.add_argument("--db")

    p = sub.add_parser("export", help="gegevens exporteren")
    export_sub = p.add_subparsers(dest="export_command", required=True, parser_class=_Parser)
    analyse = export_sub.add_parser("analyse", help="gepseudonimiseerde Parquet-bestanden voor analyse")
    analyse.add_argument("--out", required=True, help="map voor de Parquet-bestanden")
    analyse.add_argument("--db")

    inzage = export_sub.add_parser("inzage", help="inzage-PDF van een leerling voor de ouders")
    inzage.add_argument("--pupil", required=True, help="leerlingnummer of interne id")
    inzage.add_argument("--out", required=True, help="PDF-bestand")
    inzage.add_argument("--explained-by", help="wie de uitleg gaf aan de ouders")
    inzage.add_argument("--explained-on", help="datum van de uitleg (dd/mm/jjjj)")
    inzage.add_argument("--include-directie", action="store_true", help="ook registraties met zichtbaarheid directie")
    inzage.add_argument("--db")

    overdracht = export_sub.add_parser("overdracht", help="overdrachtspakket bij schoolverandering (PDF + JSON)")
    overdracht.add_argument("--pupil", required=True, help="leerlingnummer of interne id")
    overdracht.add_argument("--out", required=True, help="map voor het pakket")
    overdracht.add_argument("--mandatory-only", action="store_true", help="enkel de verplichte verslagen")
    overdracht.add_argument("--inspected-on", help="datum waarop de ouders het pakket inzagen (dd/mm/jjjj)")
    overdracht.add_argument("--objection", help="bezwaar van de ouders (vandaag geregistreerd)")
    overdracht.add_argument(
        "--include-directie", action="store_true", help="ook registraties met zichtbaarheid directie"
    )
    overdracht.add_argument("--db")

    p = sub.add_parser("retention", help="bewaartermijnen toepassen: wat vervallen is echt verwijderen")
    p.add_argument("--dry-run", action="store_true", help="enkel tonen wat vervallen is")
    p.add_argument("--json", action="store_true", help="rapport als JSON op stdout")
    p.add_argument("--today", help="peildatum (dd/mm/jjjj), standaard vandaag")
    p.add_argument("--db")

    p = sub.add_parser("backup", help="consistente back-up van de databank")
    p.add_argument("--out", required=True, help="map waarin de back-up komt")
    p.add_argument("--db")

    p = sub.add_parser("restore", help="een back-up terugzetten")
    p.add_argument("source", help="map of bestand van de back-up")
    p.add_argument("--db")
    p.add_argument("--force", action="store_true", help="een bestaande databank overschrijven")

    p = sub.add_parser("bench", help="prestatiemeting op een grote synthetische scholengroep")
    p.add_argument("--out", default="bench.json")
    p.add_argument("--rows", type=int, default=100_000, help="rijen in het importbestand")
    p.add_argument("--repeat", type=int, default=3, help="metingen per onderdeel (de mediaan telt)")
    p.add_argument("--only", action="append", metavar="ONDERDEEL", help="enkel dit onderdeel (bv. import)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "import":
            from pipelines.importer import cli_import

            return cli_import(args)
        if args.command == "demo":
            from pipelines.demo import cli_demo

            return cli_demo(args)
        if args.command == "user":
            from pipelines.accounts import cli_user_add

            return cli_user_add(args)
        if args.command == "export" and args.export_command == "analyse":
            from pipelines.analysis_export import cli_export_analyse

            return cli_export_analyse(args)
        if args.command == "export" and args.export_command == "inzage":
            from pipelines.inzage_export import cli_export_inzage

            return cli_export_inzage(args)
        if args.command == "export" and args.export_command == "overdracht":
            from pipelines.overdracht_export import cli_export_overdracht

            return cli_export_overdracht(args)
        if args.command == "retention":
            from pipelines.retention import cli_retention

            return cli_retention(args)
        if args.command == "backup":
            from pipelines.backup import cli_backup

            return cli_backup(args)
        if args.command == "restore":
            from pipelines.backup import cli_restore

            return cli_restore(args)
        if args.command == "bench":
            from pipelines.bench import cli_bench

            return cli_bench(args)
    except DatabaseBusyError as exc:
        print(f"Fout: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("Onderbroken.", file=sys.stderr)
        return 2
    return 2
