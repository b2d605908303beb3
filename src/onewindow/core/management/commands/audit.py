"""`onewindow audit verify | seal | proof <entry id> | heads`: the audit ledger from the shell."""

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from onewindow.core.audit import ledger
from onewindow.core.models.audit import AuditEntry, TreeHead

# Problems printed before the summary line; the report keeps up to ledger.MAX_PROBLEMS.
SHOWN_PROBLEMS = 20


class Command(BaseCommand):
    @property
    def help(self) -> str:  # type: ignore[override]  # translated when the parser is built
        return _("审计账本：核验（verify）、封存（seal）、包含证明（proof）、签名树头（heads）")

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        verify = actions.add_parser("verify", help=_("从内容重新计算整个账本并与签名树头、见证文件比对"))
        verify.add_argument("--progress", action="store_true", help=_("在标准错误输出上显示进度"))
        seal = actions.add_parser("seal", help=_("立即封存所有已提交的记录"))
        seal.add_argument("--batch", type=int, default=ledger.SEAL_BATCH, help=_("每个签名树头封存的最多条数"))
        proof = actions.add_parser("proof", help=_("输出一条记录的包含证明（JSON）"))
        proof.add_argument("entry_id", type=int)
        heads = actions.add_parser("heads", help=_("列出最近的签名树头和公钥"))
        heads.add_argument("--limit", type=int, default=10)
        actions.add_parser("rotate-key", help=_("更换签名密钥；旧公钥继续用于核验它签过的树头"))

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, f"handle_{options['action'].replace('-', '_')}")(**options)
        except ledger.LedgerError as exc:
            raise CommandError(str(exc), returncode=1) from exc

    def handle_verify(self, *, progress: bool, **options: Any) -> None:
        def show(checked: int, total: int) -> None:
            sys.stderr.write(_("已核验 %(checked)d / %(total)d 条") % {"checked": checked, "total": total} + "\r")

        report = ledger.verify(progress=show if progress else None)
        if progress:
            sys.stderr.write("\n")
        if not report.triggers_installed:
            self.stderr.write(_("警告：数据库中缺少审计表的只追加触发器，请运行 migrate 重新安装"))
        if report.ok:
            self.stdout.write(
                _(
                    "OK 账本完整：已核验 %(entries)d 条记录、%(heads)d 个签名树头，待封存 %(unsealed)d 条；"
                    "树大小 %(size)d，根哈希 %(root)s"
                )
                % {
                    "entries": report.entries, "heads": report.heads, "unsealed": report.unsealed,
                    "size": report.tree_size, "root": report.root_hash or "-",
                }
            )
            return
        for problem in report.problems[:SHOWN_PROBLEMS]:
            where = []
            if problem.seq is not None:
                where.append(_("序号 %(seq)d") % {"seq": problem.seq})
            if problem.entry_id is not None:
                where.append(_("记录 %(id)d") % {"id": problem.entry_id})
            if problem.head_size is not None:
                where.append(_("树头 %(size)d") % {"size": problem.head_size})
            self.stderr.write(f"[{problem.code}] {'，'.join(where)}：{problem.message}")
        raise CommandError(
            _("账本核验失败：共发现 %(count)d 处问题（已核验 %(entries)d 条记录）")
            % {"count": report.problem_count, "entries": report.entries},
            returncode=1,
        )

    def handle_seal(self, *, batch: int, **options: Any) -> None:
        total = ledger.seal_all(max_batch=batch)
        self.stdout.write(_("已封存 %(count)d 条记录") % {"count": total})

    def handle_proof(self, *, entry_id: int, **options: Any) -> None:
        try:
            proof = ledger.inclusion_proof(entry_id)
        except AuditEntry.DoesNotExist:
            raise CommandError(_("没有编号为 %(id)d 的审计记录") % {"id": entry_id}, returncode=1) from None
        self.stdout.write(json.dumps(proof, ensure_ascii=False, indent=2))

    def handle_heads(self, *, limit: int, **options: Any) -> None:
        public_key = ledger.public_key_hex()
        self.stdout.write(
            _("公钥（Ed25519）：%(key)s  密钥标识：%(id)s")
            % {"key": public_key, "id": ledger.key_id_of(bytes.fromhex(public_key))}
        )
        for key_id in ledger.trusted_keys():
            self.stdout.write(_("受信任的密钥标识：%(id)s") % {"id": key_id})
        for head in TreeHead.objects.order_by("-size")[:limit]:
            self.stdout.write(f"{head.size}\t{head.created_at.isoformat()}\t{head.root_hash}\t{head.signature}")

    def handle_rotate_key(self, **options: Any) -> None:
        old_id, new_id = ledger.rotate_key()
        self.stdout.write(
            _("已更换签名密钥：%(old)s → %(new)s。请把新公钥交给外部见证方：%(key)s")
            % {"old": old_id, "new": new_id, "key": ledger.public_key_hex()}
        )
