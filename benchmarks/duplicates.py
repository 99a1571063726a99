"""Duplicate detection among many proposals: does a reworded earlier proposal come first, and how fast?

    python benchmarks/duplicates.py [--n 10000] [--database-url postgresql://...]

Builds a throwaway database (SQLite in a temporary folder unless --database-url names an empty one), loads
the demo union, files N synthetic proposals plus one original, submits a reworded copy of it through the
engine, then times `similar()` and compares it with a brute-force cosine over every proposal.
"""
from __future__ import annotations

import argparse
import math
import os
import random
import statistics
import sys
import tempfile
import time
from collections import defaultdict

ORIGINAL = {"title": "冲压车间夜班交接单电子化",
            "problem": "冲压车间夜班交接时间过长，交接记录靠手写，设备状态和待办事项容易遗漏。",
            "suggestion": "将交接单电子化，用平板电脑录入设备状态和待办事项，接班人扫码确认。"}
REWORDED = {"title": "冲压夜班改用电子交接单",
            "problem": "冲压车间夜班交班耗时太久，纸质交接本常常漏记设备情况。",
            "suggestion": "改用电子交接单，在平板上登记设备状态与未完成事项，接班时扫码签收。"}

PLACES = ["焊装车间", "涂装车间", "总装车间", "机修车间", "成品仓库", "原料仓库", "职工食堂", "质检科", "动力站",
          "物流部", "办公楼", "宿舍区", "锅炉房", "配电室", "研发中心", "模具车间", "铸造车间", "包装线", "冲压车间"]
THINGS = ["照明", "空压机", "叉车", "排班", "废料回收", "模具保养", "能耗", "安全帽", "消防通道", "通风",
          "更衣柜", "饮水机", "停车场", "门禁", "打卡机", "传送带", "冷却水", "润滑油", "噪声", "粉尘",
          "备件库存", "培训", "报修流程", "工具借用", "包装材料", "托盘", "标签打印", "电梯", "窗户", "空调",
          "夜班", "交接", "设备点检", "巡检记录", "领料单"]
ISSUES = ["浪费严重", "效率低下", "存在安全隐患", "管理混乱", "成本偏高", "经常损坏", "等待时间长", "职工意见大",
          "记录不全", "容易遗漏"]
FIXES = ["加装传感器自动控制", "制定定期检查制度", "引入信息化台账", "调整作业流程", "集中统一采购",
         "设立专人负责", "更换节能设备", "开展专项培训", "增加巡检频次", "实行定置管理", "用平板电脑登记", "扫码确认"]


def corpus(n: int, seed: int = 7) -> list[dict]:
    """n proposals about a factory's usual subjects (some share words with the original, none its subject)."""
    rnd = random.Random(seed)
    out = []
    for _ in range(n):
        place, a, b = rnd.choice(PLACES), *rnd.sample(THINGS, 2)
        out.append({"title": f"关于{place}{a}的改进建议",
                    "problem": f"{place}的{a}{rnd.choice(ISSUES)}，{b}{rnd.choice(ISSUES)}。",
                    "suggestion": f"建议{place}{rnd.choice(FIXES)}，{b}方面{rnd.choice(FIXES)}。"})
    return out


def seed(author, rows: list[dict]):
    """Submitted proposals straight into the tables, indexed as a submission would index them."""
    from sqlalchemy import update
    from casework.core.models import Serial, next_serial
    from casework.extensions import db
    from casework.proposals import similar
    from casework.proposals.models import Proposal, ProposalTerm
    # Take the case numbers in one go: the serial jumps by len(rows).
    first = next_serial("case:proposal", 2026)
    db.session.execute(update(Serial).where(Serial.scope == "case:proposal", Serial.year == 2026)
                       .values(last=first + len(rows) - 1))
    made = [Proposal(number=f"P2026-{first + i:05d}", state="submitted", unit=author.unit, applicant=author,
                     created_by=author, **row) for i, row in enumerate(rows)]
    db.session.add_all(made)
    db.session.flush()
    # What similar.index adds per proposal, in one executemany.
    terms = [{"proposal_id": p.id, "term": t, "tf": n} for p in made
             for t, n in similar.terms_of(p.title, p.problem, p.suggestion).items()]
    db.session.execute(ProposalTerm.__table__.insert(), terms)
    db.session.commit()
    return made


def brute_force(case) -> list[tuple[int, float]]:
    """The same TF-IDF cosine over every earlier proposal, reading the whole index: the baseline."""
    from sqlalchemy import select
    from casework.extensions import db
    from casework.proposals.models import ProposalTerm
    docs: dict[int, dict[str, int]] = defaultdict(dict)
    for pid, term, tf in db.session.execute(select(ProposalTerm.proposal_id, ProposalTerm.term, ProposalTerm.tf)):
        docs[pid][term] = tf
    df: dict[str, int] = defaultdict(int)
    for vec in docs.values():
        for t in vec:
            df[t] += 1
    n = len(docs)

    def weights(vec):
        return {t: (1 + math.log(tf)) * (math.log((n + 1) / (df[t] + 1)) + 1) for t, tf in vec.items()}
    q = weights(docs[case.id])
    qn = math.sqrt(sum(w * w for w in q.values()))
    scored = []
    for pid, vec in docs.items():
        if pid >= case.id:
            continue
        d = weights(vec)
        dn = math.sqrt(sum(w * w for w in d.values()))
        scored.append((pid, sum(q[t] * w for t, w in d.items() if t in q) / (qn * dn)))
    return sorted(scored, key=lambda x: -x[1])[:5]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10000, help="proposals in the corpus (default 10000)")
    ap.add_argument("--runs", type=int, default=7, help="timed queries (default 7)")
    ap.add_argument("--database-url", help="an empty database to use instead of a temporary SQLite file")
    args = ap.parse_args(argv)
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    folder = tempfile.mkdtemp(prefix="casework-bench-")
    os.environ.setdefault("CASEWORK_INSTANCE", folder)
    url = args.database_url or f"sqlite:///{folder}/bench.sqlite"
    from flask_migrate import upgrade
    from sqlalchemy import select
    from casework import create_app, demo
    from casework.accounts.models import User
    from casework.core import engine, kinds
    from casework.extensions import db
    from casework.proposals import similar
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "benchmark-secret-key-0123456789"})
    with app.app_context():
        upgrade(revision="heads")
        demo.load()
        db.session.commit()
        author = db.session.scalar(select(User).where(User.username == "worker2"))
        worker = db.session.scalar(select(User).where(User.username == "worker1"))
        t0 = time.perf_counter()
        similar.segmenter()
        t_init = time.perf_counter() - t0
        rows = corpus(args.n // 2) + [ORIGINAL] + corpus(args.n - args.n // 2, seed=8)
        t0 = time.perf_counter()
        original = seed(author, rows)[args.n // 2]
        t_seed = time.perf_counter() - t0
        case = kinds.create("proposal", REWORDED, worker)
        engine.fire(case, "submit", worker)
        db.session.commit()
        times, found = [], []
        for _ in range(args.runs):
            db.session.expire_all()
            t0 = time.perf_counter()
            found = similar.similar(case, limit=5)
            times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        baseline = brute_force(case)
        t_brute = time.perf_counter() - t0
        rank = next((i + 1 for i, (pid, _s) in enumerate(found) if pid == original.id), None)
        best = statistics.median(times)
        print(f"database            {db.engine.dialect.name}")
        print(f"proposals           {args.n + 1} earlier + 1 reworded")
        print(f"jieba start-up      {t_init:.2f} s")
        print(f"seed + index        {t_seed:.1f} s ({args.n / t_seed:.0f} proposals/s)")
        print(f"similar(), median   {best * 1000:.1f} ms over {args.runs} runs (min {min(times) * 1000:.1f} ms)")
        print(f"brute force         {t_brute * 1000:.1f} ms  (ratio {t_brute / best:.1f}x slower)")
        print(f"original found      rank {rank}, similarity {dict(found).get(original.id)}")
        print(f"next best           {found[1][1] if len(found) > 1 else '-'}  "
              f"(ratio {dict(found).get(original.id, 0) / found[1][1]:.1f}x)" if len(found) > 1 else
              "next best           none above the threshold")
        print(f"agrees with brute   {[p for p, _ in baseline[:len(found)]] == [p for p, _ in found]}")
        return 0 if rank == 1 else 1


if __name__ == "__main__":
    sys.exit(main())
