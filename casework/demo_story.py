"""The demo union's year as data: who asks for what, who votes, what the replies say.

casework/demo_history.py replays it through the engine.

Each record is one case's story: its people (demo user names from casework/demo.py), its texts, when it
starts and the state it stops in. The fund's income and the one 举报 of the year are here too.
"""
from __future__ import annotations

from dataclasses import dataclass, field

# Where a story starts: ("month", offset, day) in the history's months, ("ago", working days) before today, or
# ("years_ago", years, month, day): an archived story from before the history (its retention period over).
Start = tuple



# -- aid requests ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Aid:
    key: str
    applicant: str
    category: str
    amount: str
    circumstances: str
    findings: str
    start: Start
    details: dict = field(default_factory=dict)
    proposed: str | None = None
    approved: str | None = None
    filer: str | None = None  # a group leader applying on the applicant's behalf (代申请)
    visitors: tuple[str, ...] = ("staff1", "committee4")
    voters: tuple[str, ...] = ("committee1", "committee2", "committee3")
    returned: str = ""  # staff return it for this, the applicant adds a document and resubmits
    intake_days: int = 2  # working days from submission to the start of verification
    reject: str = ""
    objection: tuple[str, str] | None = None  # (the objection on the board, the committee's answer)
    prepare_batch: bool = False  # staff prepare the board batch the same day instead of waiting for Monday
    method: str = "bank_transfer"
    receipt: str = "applicant"  # who confirms receipt: applicant, staff, or nobody (it closes by itself)
    stop: str | None = None  # the state the story stops in (now)
    votes_cast: int = 0  # with stop="pending_approval": committee votes already cast
    # Above the unit's threshold: the parent union's committee votes next (上级审批), for this amount.
    parent_voters: tuple[str, ...] = ()
    parent_amount: str | None = None
    withdraw: str = ""  # after the visit the applicant withdraws, saying this
    hold: str = ""  # then union staff place a legal hold for this reason (it is kept past its period)


DOCS = {"hardship": ("income_proof", "家庭收入证明.pdf"), "illness": ("medical_bills", "住院费用清单及票据.pdf"),
        "education": ("admission_letter", "录取通知书.pdf")}


AID = [
    # Archived: withdrawn six years ago. The first is past its retention period, so the first sweep of the
    # history anonymises it; the second is kept under a legal hold (a labour arbitration needs its file).
    Aid("A01", "worker3", "hardship", "3000.00",
        "本人因工伤停工半年，爱人患抑郁症无法工作，家中两个孩子上小学，房贷每月三千余元。",
        "入户走访，申请人腰椎骨折尚在康复，爱人长期服用抗抑郁药物，家庭负债较重，情况属实。",
        ("years_ago", 6, 3, 9), details={"household_size": 4, "monthly_income": "2600.00",
                                         "cause": "工伤停工，爱人抑郁症"},
        withdraw="工伤赔偿已到位，家庭困难暂时缓解，撤回申请。"),
    Aid("A02", "rep2", "hardship", "4000.00",
        "本人被调岗后工资下降一半，爱人下岗，母亲患阿尔茨海默病需人照料。",
        "入户走访，申请人母亲需全天照护，家庭人均月收入约九百元，情况属实；申请人称调岗与企业存在争议。",
        ("years_ago", 6, 4, 14), details={"household_size": 3, "monthly_income": "2700.00",
                                          "cause": "调岗降薪，母亲阿尔茨海默病"},
        visitors=("staff1", "committee3"),
        withdraw="已向劳动争议仲裁委员会申请仲裁，先撤回帮扶申请。",
        hold="申请人与企业的调岗降薪劳动争议仲裁尚未结案，仲裁委调取了本申请的走访记录，依法保全，暂不匿名化。"),
    Aid("A1", "worker2", "holiday_visit", "800.00",
        "本人丈夫常年患慢性肾病在家休养，每月透析费用较高，女儿在读高中，家庭主要依靠本人工资维持。{festival}前申请节日慰问。",
        "入户走访，申请人家中陈设简陋，丈夫需定期透析，家庭月收入约三千元，情况属实。",
        ("month", 0, 6), visitors=("staff1", "committee4"), method="cash"),
    Aid("A2", "rep3", "holiday_visit", "600.00",
        "父母年迈多病，长期由本人赡养，妻子无固定工作，{festival}前家庭生活较为困难。",
        "走访了解，申请人赡养两位老人，母亲患高血压、糖尿病需长期服药，妻子打零工，收入不稳定，情况属实。",
        ("month", 0, 6, "14:30"), visitors=("staff1", "committee5"),
        voters=("committee2", "committee3", "committee5"),
        method="cash", receipt="staff"),
    Aid("A3", "worker1", "illness", "20000.00",
        "爱人去年底确诊乳腺癌，已行手术并进行化疗，医保报销后个人自付费用约4.68万元，家中积蓄已基本用尽，"
        "现申请大病救助。",
        "到医院及家中走访，核对了住院费用清单和医保结算单，自付费用属实；申请人爱人仍在化疗，孩子读初中。",
        ("month", 1, 3), details={"diagnosis": "乳腺癌术后化疗", "hospital": "市第一人民医院",
                                  "out_of_pocket": "46800.00"},
        proposed="15000.00", visitors=("staff1", "leader1")),
    Aid("A4", "worker3", "hardship", "5000.00",
        "母亲瘫痪在床需专人护理，女儿读高三、儿子读初中，爱人为照顾老人辞去工作，家庭仅靠本人收入。",
        "入户核实，申请人母亲长期卧床，家庭人均月收入约八百元，低于本单位困难职工认定标准，情况属实。",
        ("month", 2, 2), details={"household_size": 5, "monthly_income": "4100.00",
                                  "cause": "母亲瘫痪需专人护理，爱人无收入"},
        proposed="4000.00", intake_days=7, voters=("committee1", "committee3", "committee4"),
        visitors=("staff1", "committee5"), receipt="nobody"),
    Aid("A5", "rep1", "hardship", "3000.00",
        "妻子所在企业停产后一直没有稳定工作，父亲患脑梗后行动不便，家庭开支较大。",
        "入户走访，申请人父亲脑梗后遗症需康复治疗，妻子待业，家庭收入仅靠申请人工资，情况属实。",
        ("month", 3, 7), details={"household_size": 4, "monthly_income": "3600.00", "cause": "妻子待业，父亲脑梗康复"},
        filer="leader1", visitors=("staff1", "committee3"), receipt="staff"),
    Aid("A6", "handler1", "illness", "15000.00",
        "本人突发脑溢血住院治疗，医保报销后个人自付约3.85万元，出院后仍需康复治疗。",
        "到家中看望，申请人已出院在家康复，核对了住院结算单据，自付费用属实，家中老人和孩子需要照顾。",
        ("month", 4, 11), details={"diagnosis": "脑溢血", "hospital": "省人民医院", "out_of_pocket": "38500.00"},
        proposed="12000.00", returned="请补充出院小结及医保结算单，以便核定自付费用。",
        visitors=("staff1", "committee3"), voters=("committee1", "committee2", "committee5")),
    Aid("A7", "evaluator1", "hardship", "4000.00",
        "爱人患病后长期休养，孩子读大学，家庭开支较大。",
        "入户核实，申请人爱人已恢复工作，家庭人均月收入约二千六百元，高于本单位困难职工认定标准。",
        ("month", 5, 8), details={"household_size": 3, "monthly_income": "7800.00", "cause": "爱人病休，孩子读大学"},
        visitors=("staff1", "committee4"), voters=("committee2", "committee4", "committee5"),
        reject="经入户核实，申请人家庭人均收入高于本单位困难职工认定标准，不符合困难帮扶条件。"
               "如家庭情况发生变化，可重新提出申请。"),
    Aid("A8", "evaluator2", "illness", "12000.00",
        "女儿患急性淋巴细胞白血病，在儿童医院住院化疗，医保报销后个人自付约5.2万元，本人与爱人轮流请假陪护。",
        "到儿童医院及家中走访，核对住院费用清单，自付费用属实；家庭为照顾患儿已借款两万余元。",
        ("month", 6, 6), details={"diagnosis": "女儿急性淋巴细胞白血病", "hospital": "省儿童医院",
                                  "out_of_pocket": "52000.00"},
        proposed="10000.00", visitors=("staff1", "committee5"),
        voters=("committee1", "committee2", "committee4"),
        objection=("该职工家庭条件较好，不应享受大病救助，请工会核查。",
                   "经工会再次入户核实，申请人家庭医疗支出符合大病救助条件，异议不成立，按原决定发放救助金。")),
    Aid("A9", "worker3", "education", "5000.00",
        "女儿今年考入大学，学费及住宿费每年约五千八百元，母亲长期卧床，家庭难以承担子女入学费用。",
        "入户核实，申请人女儿已收到录取通知书，家庭仍需照顾卧床老人，符合金秋助学条件。",
        ("month", 7, 3), details={"child_name": "欧阳晓雨", "school": "华东理工大学", "tuition": "5800.00"},
        proposed="3000.00", visitors=("staff1", "committee5")),
    Aid("A10", "rep2", "education", "4000.00",
        "儿子今年考入大学，爱人下岗后打零工，收入微薄，子女考入大学学费困难。",
        "入户核实，录取通知书及学费标准属实，家庭主要收入为申请人工资，符合金秋助学条件。",
        ("month", 7, 3, "15:10"), details={"child_name": "王子涵", "school": "河南工业大学", "tuition": "4400.00"},
        proposed="3000.00", visitors=("staff1", "committee4"),
        voters=("committee3", "committee4", "committee5")),
    Aid("A11", "leader1", "holiday_visit", "800.00",
        "爱人长期患类风湿性关节炎，不能从事体力劳动，{festival}前申请节日慰问。",
        "走访了解，申请人爱人关节变形，需长期服药，家庭负担较重，情况属实。",
        ("month", 8, 7), visitors=("staff1", "committee3"), method="cash"),
    # Now: one approved and waiting to be paid, one on the board, one before the committee, one being
    # verified, one just submitted, one draft.
    Aid("A12", "rep3", "illness", "10000.00",
        "本人确诊腰椎间盘突出症并行手术治疗，医保报销后个人自付约2.9万元，术后三个月不能上班。",
        "到家中看望，申请人术后恢复中，核对了手术及住院费用票据，自付费用属实。",
        ("ago", 22), details={"diagnosis": "腰椎间盘突出症手术", "hospital": "市中心医院",
                              "out_of_pocket": "29000.00"},
        proposed="8000.00", visitors=("staff1", "committee4"), prepare_batch=True, stop="approved"),
    Aid("A13", "worker2", "hardship", "3000.00",
        "丈夫透析费用逐年增加，女儿今年上大学，家庭入不敷出。",
        "再次入户核实，申请人丈夫每周透析三次，女儿在外地读大学，家庭人均月收入不足一千元，情况属实。",
        ("ago", 12), details={"household_size": 3, "monthly_income": "2900.00", "cause": "丈夫长期透析，女儿读大学"},
        visitors=("staff1", "committee4"), voters=("committee1", "committee3", "committee5"),
        prepare_batch=True, stop="posting"),
    Aid("A14", "rep2", "hardship", "4000.00",
        "爱人下岗后打零工收入不稳定，婆婆近期住院，儿子读大学，家庭生活困难。",
        "入户核实，申请人婆婆因心衰住院，家庭月收入约三千二百元，有一名在读大学生，情况属实。",
        ("ago", 8), details={"household_size": 4, "monthly_income": "3200.00", "cause": "婆婆住院，儿子读大学"},
        proposed="3000.00", visitors=("staff1", "committee3"), voters=("committee2",),
        stop="pending_approval", votes_cast=1),
    Aid("A15", "rep1", "illness", "8000.00",
        "母亲确诊肺癌，正在进行靶向药物治疗，每月自付药费约六千元。",
        "", ("ago", 5), details={"diagnosis": "母亲肺癌靶向治疗", "hospital": "省肿瘤医院",
                                 "out_of_pocket": "36000.00"},
        visitors=("staff1", "leader1"), stop="verifying"),
    Aid("A16", "worker1", "hardship", "3000.00",
        "爱人化疗结束后仍无法工作，孩子明年中考，家庭收入仅靠本人工资，医疗借款尚未还清。",
        "", ("ago", 2), details={"household_size": 3, "monthly_income": "3900.00", "cause": "爱人病后无法工作"},
        stop="submitted"),
    Aid("A17", "handler1", "hardship", "2000.00",
        "脑溢血康复期间收入减少，孩子上高中，家庭开支较大。",
        "", ("ago", 1, "16:00"), stop="draft"),
    # The parts factory's union (BRANCH below) decides small aid itself and pays from its own fund; above its
    # threshold the company union's committee decides next and its fund pays (two-level approval).
    Aid("A18", "worker4", "illness", "20000.00",
        "本人确诊结肠癌并行手术，术后需化疗六个周期，医保报销后个人自付约4.2万元，爱人在家照顾老人。",
        "到医院及家中走访，核对了手术及化疗费用票据，自付费用属实；家中有两位七十岁以上老人需赡养。",
        ("month", 5, 12), details={"diagnosis": "结肠癌术后化疗", "hospital": "市肿瘤医院",
                                   "out_of_pocket": "42000.00"},
        proposed="15000.00", visitors=("staff1", "committee8"),
        voters=("committee6", "committee7", "committee8"),
        parent_voters=("committee1", "committee3", "committee5"), parent_amount="12000.00"),
    Aid("A19", "worker4", "holiday_visit", "800.00",
        "本人术后仍在康复，爱人照顾两位老人无法外出工作，{festival}前申请节日慰问。",
        "走访了解，申请人术后康复中，家庭收入仅靠本人病假工资，情况属实。",
        ("month", 8, 4), visitors=("staff1", "committee8"),
        voters=("committee6", "committee7", "committee8"), method="cash", receipt="staff"),
]


# -- a grassroots union below the company union ------------------------------------------------
# 配件分厂工会: its own committee of three and its own aid fund; illness aid above 10,000 yuan and hardship aid
# above 3,000 yuan go on to the company union's committee. Joins the system on the history's first day.
BRANCH = ("B3", "配件分厂工会", "branch", "HQ")
BRANCH_GROUP = ("G31", "装配班组", "group", "B3")
BRANCH_PEOPLE = (  # username, name, employee no, phone, unit, role at B3 (or at the group for the worker)
    ("worker4", "钱志刚", "E1004", "13800001004", "G31", "worker"),
    ("committee6", "韩雪梅", "E1306", "13800001306", "B3", "committee"),
    ("committee7", "曹永军", "E1307", "13800001307", "B3", "committee"),
    ("committee8", "彭丽", "E1308", "13800001308", "B3", "committee"),
)
BRANCH_FUND = ("AID-B3", "配件分厂工会救助基金")
BRANCH_INCOMES = (((0, 6), 1200000, "union_dues", "分厂工会经费划拨（一季度）"),
                  ((1, 9), 180000, "donation", "分厂职工“一日捐”"),
                  ((3, 6), 1200000, "union_dues", "分厂工会经费划拨（二季度）"),
                  ((5, 8), 300000, "government", "园区帮扶补助"),
                  ((6, 6), 1200000, "union_dues", "分厂工会经费划拨（三季度）"),
                  ((9, 6), 1200000, "union_dues", "分厂工会经费划拨（四季度）"))
BRANCH_THRESHOLDS = {"illness": 1000000, "hardship": 300000}  # fen



# -- rationalisation proposals -----------------------------------------------------------------

@dataclass(frozen=True)
class Proposal:
    key: str
    author: str
    title: str
    problem: str
    suggestion: str
    start: Start
    expected_benefit: str = ""
    coproposers: tuple[str, ...] = ()
    decline: str = ""
    scores: tuple[tuple[int, str], tuple[int, str]] = ((80, "建议可行"), (80, "建议可行"))
    not_adopt: str = ""
    deadline_days: int = 60  # implementation deadline, calendar days after adoption
    result: str = ""
    benefit: str = "0.00"
    implemented_at: Start | None = None  # when the department reports it done (default: before the deadline)
    bonus: str = ""
    reward_comment: str = "予以表彰"
    prepare_batch: bool = False
    stop: str | None = None
    voters: tuple[str, ...] = ("committee1", "committee2", "committee3")
    # The proposer's two-part rating of the reply (decline) or of the implementation: (attitude, result, comment).
    rating: tuple[str, str, str] | None = None


PROPOSALS = [
    Proposal("P1", "worker1", "冲压车间照明节能改造",
             "冲压车间现有照明为传统金卤灯，功率大、启动慢，夜班期间整夜常开，耗电量高，部分工位照度不足。",
             "将车间照明更换为LED节能灯具，按作业区域分组控制，并在通道、库区加装人体感应开关，非作业区域夜间自动调暗。",
             ("month", 0, 19), expected_benefit="预计每年节约电费约3万元", coproposers=("leader1",),
             scores=((92, "节能效果明显，投资回收期短，建议优先实施"), (88, "方案可行，需注意灯具防护等级")),
             deadline_days=75, result="已完成冲压车间240盏灯具更换及分区控制改造，经三个月运行统计，照明用电下降约45%，"
                                      "工位照度全部达到标准。",
             benefit="36000.00", bonus="300.00", reward_comment="节能降耗成效显著，予以表彰"),
    Proposal("P2", "worker2", "二车间设备点检记录电子化",
             "设备点检依靠纸质记录，填写不规范，数据难以汇总分析，设备隐患发现滞后。",
             "利用现有手持终端建立电子点检表，点检数据自动上传，参数超限时自动提醒维修班组。",
             ("month", 1, 5), expected_benefit="减少非计划停机，提高设备完好率",
             scores=((78, "思路清晰，需与设备管理系统对接"), (82, "实用性强")),
             result="已在二车间32台主要设备推行电子点检，隐患平均处理时间由3天缩短到1天。",
             benefit="15000.00", rating=("satisfied", "satisfied", "点检效率明显提高")),
    Proposal("P3", "rep3", "办公区域推行双面打印和无纸化会议",
             "机关各部门打印量大，单面打印普遍，会议材料印发后大多一次性使用。",
             "打印机默认设置为双面打印，例会材料改为投屏和电子传阅，建立部门用纸台账。",
             ("month", 2, 9), scores=((62, "效益有限，但易于推行"), (65, "可在机关范围推广")),
             result="机关各部门打印机已统一设为双面打印，例会材料实行电子传阅，月用纸量下降约三成。",
             benefit="4000.00", voters=("committee2", "committee4", "committee5")),
    Proposal("P4", "leader1", "职工食堂增设夜班热餐供应",
             "夜班职工凌晨就餐只能选择面包、方便面，食堂就餐不便。",
             "食堂在夜班时段保留一个窗口，提供热汤面、水饺等简餐。",
             ("month", 3, 2),
             decline="经研究，该建议属于后勤服务日常管理事项，已转后勤保障部研究落实夜班就餐安排，"
                     "不列入合理化建议评审。感谢您对职工生活的关心。",
             rating=("satisfied", "basically_satisfied", "已转后勤落实，可以理解")),
    Proposal("P5", "worker3", "更换二车间老旧空压机",
             "二车间两台空压机使用已超过十五年，能耗高、故障多。",
             "更换为变频螺杆空压机，并加装余热回收装置。",
             ("month", 4, 6), scores=((50, "投资较大，回收期长"), (55, "需结合空压站整体改造统筹考虑")),
             not_adopt="经评审，该建议所需投资较大，且公司已将空压站整体改造列入明年技术改造计划，本建议暂不采纳。"
                       "感谢您的关注与支持。"),
    Proposal("P6", "rep1", "一车间夜班交接班信息化",
             "夜班交接依靠口头和纸质交接本，交接时间长，设备异常、物料短缺等信息容易遗漏。",
             "在班组终端上建立电子交接单，按设备、质量、安全、物料分项填写，接班人确认后方可开工。",
             ("month", 5, 4), expected_benefit="每班缩短交接时间约15分钟",
             scores=((80, "管理效益明显"), (76, "需做好班组培训")),
             deadline_days=150, result="一车间四个班组已全部使用电子交接单，交接时间平均缩短15分钟，交接遗漏问题明显减少。",
             benefit="20000.00", implemented_at=("ago", 7, "15:30"), prepare_batch=True,
             voters=("committee1", "committee4", "committee5")),
    Proposal("P7", "worker1", "冲压模具快速更换",
             "冲压线换模依靠人工找正，一次换模需要90分钟左右，影响设备利用率。",
             "制作标准化模具垫板和快速定位销，换模前预先准备工装，推行快速换模作业法。",
             ("month", 6, 8), expected_benefit="换模时间缩短一半以上",
             scores=((84, "效益明显，可先在一条线试点"), (79, "需评估定位销的加工周期")), deadline_days=30,
             stop="implementing"),
    Proposal("P8", "rep2", "仓库物料定置管理",
             "二车间线边仓物料摆放混乱，找料时间长，先进先出难以落实。",
             "按物料类别划线定置，设置标识牌和先进先出货架，每班由专人检查。",
             ("ago", 20), scores=((75, "简单易行"), (72, "可推广到其他车间")), stop="graded"),
    Proposal("P9", "worker2", "焊接烟尘局部收集改造",
             "二车间焊接工位烟尘较大，现有排风效果不好，职工反映咽喉不适。",
             "在固定焊接工位加装移动式烟尘净化器和局部吸风罩。",
             ("ago", 9), scores=((0, ""), (85, "有利于职业健康，建议尽快实施")), stop="evaluating"),
    Proposal("P10", "worker3", "一车间照明加装感应开关",
             "一车间通道和库区照明整夜常开，无人时也不关灯。",
             "在通道和库区照明回路加装人体感应开关。", ("ago", 2, "14:00"), stop="submitted"),
]



# -- congress motions --------------------------------------------------------------------------

@dataclass(frozen=True)
class Motion:
    key: str
    author: str
    title: str
    reasons: str
    proposal_text: str
    start: Start
    outcome: str = "file"  # file, merge, opinion, not_file
    department: str = "TECH"  # the lead department it is filed to (at last)
    co_departments: tuple[str, ...] = ()
    # 退办: first filed to this department, which signs for it and returns it with `return_reason`.
    returned_by: str = ""
    return_reason: str = ""
    # 会办意见: (department, working days after the lead's receipt, text); a co-handler not named gives none.
    opinions: tuple[tuple[str, int, str], ...] = ()
    reason: str = ""  # not_file
    merge_into: str = ""
    reply: str = ""
    reply_days: int = 20
    rating: str = "satisfied"  # satisfied, basically_satisfied, unsatisfied, reopen, none (closes by itself)
    reopen_comment: str = ""
    second_reply: str = ""
    stop: str | None = None
    deadline_days: int = 0  # a handling deadline this many working days after filing (0: the default)
    progress: tuple[tuple[int, str], ...] = ()  # 办理进展: (working days after the receipt, the note)
    slip_answer: tuple[int, str] | None = None  # the department answers its open 督办单 (days after the receipt)
    staff_slip: tuple[int, str, str] | None = None  # staff issue a slip: (days after the receipt, colour, remark)
    # Co-signers' two-part ratings: (username, attitude, result, comment).
    cosigner_ratings: tuple[tuple[str, str, str, str], ...] = ()
    # The call-back after a 不满意 (回访), recorded by union staff: (how, what was said, outcome, explanation);
    # none: it is still due. A "fix" hands the motion back; its second reply is rated again.
    callback: tuple[str, str, str, str] | None = None


MOTIONS = [
    Motion("M1", "rep1", "关于实施车间照明改造、改善作业环境的提案",
           "一车间、二车间部分区域照明不足，灯具老化，夜班作业存在安全隐患，职工反映强烈。",
           "建议对车间照明系统进行全面检测，更换老化灯具，增设局部作业照明，并纳入年度安全技术措施计划。",
           ("month", 2, 2), co_departments=("LOG",),
           progress=((8, "已完成一车间照明检测，正在编制灯具更换方案。"), (16, "一车间灯具更换完毕，二车间正在施工。")),
           opinions=(("LOG", 6, "后勤保障部负责灯具采购和线路检修，已排入本月维修计划，配合生产技术部完成改造。"),),
           cosigner_ratings=(("rep2", "satisfied", "satisfied", "改造及时，效果很好"),
                             ("rep3", "satisfied", "basically_satisfied", "")),
           reply="生产技术部会同后勤保障部完成了一车间、二车间照明检测，更换灯具312盏，增设局部作业照明46处，"
                 "各作业区照度均已达到国家标准要求。"),
    Motion("M2", "rep2", "关于加强高温季节车间防暑降温工作的提案",
           "夏季车间温度高，部分工位超过35℃，职工中暑风险大。",
           "建议增设通风降温设备，高温时段调整作业安排，足额发放防暑降温用品。",
           ("month", 2, 3), co_departments=("LOG", "HR"), reply_days=25, rating="basically_satisfied",
           progress=((8, "冷风机已完成选型采购。"), (16, "冷风机安装完成，错峰作业方案已报人力资源部。"),
                     (23, "防暑降温用品已发放到各班组。")),
           # HR's opinion comes two working days after its deadline: the case shows it as late.
           opinions=(("LOG", 5, "后勤保障部负责采购冷风机并安排安装，防暑降温用品按月发放到班组。"),
                     ("HR", 12, "人力资源部同意高温时段错峰作业，高温津贴按国家标准随工资发放。")),
           reply="已为各车间增设工业冷风机20台，高温时段实行错峰作业，并按标准发放防暑降温用品和高温津贴。",
           cosigner_ratings=(("rep1", "basically_satisfied", "unsatisfied", "三车间仍未增设降温设备"),),
           callback=("visit", "到三车间现场回访，职工反映冷风机数量不足。", "explain",
                     "三车间冷风机已采购，因厂房电力增容需待明年一季度完成后安装，期间发放防暑用品并缩短高温时段作业时间。")),
    Motion("M3", "rep3", "关于治理冲压车间噪声的提案",
           "冲压车间噪声长期超过85分贝，职工听力受到影响。",
           "建议从设备源头进行减振降噪改造，同时为一线职工配发合格的护听器，定期开展职业健康检查。",
           ("month", 2, 4), reply_days=18, rating="reopen", progress=((9, "隔音罩已订货，预计下周安装。"),),
           reply="已对3台冲床加装隔音罩，并为一线职工配发降噪耳塞。",
           reopen_comment="隔音罩效果有限，噪声仍然较大，希望从设备源头治理。",
           callback=("phone", "电话回访代表，代表希望从设备源头减振降噪，生产技术部同意重新办理。", "fix", ""),
           second_reply="已将冲压设备减振降噪改造列入技改项目，完成2台冲床基础减振改造，车间噪声平均下降6分贝，"
                        "并为一线职工安排了职业健康检查。"),
    Motion("M4", "rep2", "关于增加二车间照明的提案",
           "二车间装配区照明偏暗，职工看图作业吃力。",
           "建议增设装配区照明灯具。", ("month", 2, 5), outcome="merge", merge_into="M1"),
    Motion("M5", "rep3", "关于加强新入职职工岗前安全培训的建议",
           "近年新入职职工较多，部分职工安全意识和操作技能不足。",
           "建议完善岗前安全培训内容，实行师带徒制度，考核合格后方可独立上岗。",
           ("month", 2, 9), outcome="opinion", reply_days=12, rating="none",
           reply="已修订新员工三级安全教育培训大纲，推行师带徒制度，新员工经考核合格后方可独立上岗。"),
    Motion("M6", "rep1", "关于调整职工食堂就餐时间的提案",
           "中午下班后食堂就餐拥挤，排队时间长。",
           "建议各车间错峰就餐，延长食堂供餐时间。", ("month", 2, 10), outcome="not_file",
           reason="该事项属于后勤日常管理，不符合大会提案立案条件，已转后勤保障部研究改进食堂就餐安排。"),
    Motion("M7", "rep1", "关于完善一线岗位劳动防护用品配备的提案",
           "部分一线岗位劳动防护用品更换周期长，款式不适合夏季作业。",
           "建议按岗位风险重新核定劳动防护用品配备标准，缩短易耗品更换周期。",
           ("ago", 22), co_departments=("HR",), stop="handling",
           staff_slip=(12, "yellow", "请尽快报送办理进展，说明防护用品配备标准的修订安排。")),
    Motion("M12", "rep3", "关于规范职工加班与调休管理的提案",
           "部分班组加班后调休难以落实，加班时长统计不规范，职工意见较大。",
           "建议统一加班审批和记录办法，加班后一个月内安排调休，确实无法调休的依法支付加班工资。",
           ("ago", 18), returned_by="TECH", department="HR", stop="handling",
           return_reason="职工加班审批、调休安排和加班工资属于人力资源部职责，不属于生产技术部职责范围，请重新交办。"),
    Motion("M8", "rep2", "关于改善夜班职工通勤条件的提案",
           "夜班下班时间为凌晨，公交已停运，职工多骑电动车回家，存在交通安全隐患。",
           "建议开通夜班通勤班车，或与公交公司协商延长末班车运营时间。", ("ago", 3), stop="cosigning"),
    Motion("M13", "rep3", "关于改善倒班职工休息室条件的提案",
           "倒班职工休息室空间狭小，通风差，床位不足。",
           "建议扩建倒班休息室，增加床位，加装空调和新风设备。", ("ago", 45), reply_days=20,
           rating="unsatisfied", reply="已对休息室进行了清洁整理，更换了部分床上用品。"),
    Motion("M9", "rep3", "关于开展职工子女暑期托管的提案",
           "双职工家庭子女暑期无人照看，职工后顾之忧较大。",
           "建议由工会牵头，利用职工之家场地开办暑期托管班。", ("ago", 6), stop="submitted"),
    # Under supervision now: a deadline two working days away (blue), one passed and answered on its slip (red).
    Motion("M10", "rep3", "关于增设厂区电动车充电桩的提案",
           "职工骑电动车上下班的越来越多，厂区没有集中充电点，私拉电线充电存在火灾隐患。",
           "建议在厂区停车棚增设集中充电桩，并落实消防安全措施。", ("ago", 14), stop="handling",
           deadline_days=10, progress=((3, "已会同后勤保障部勘察停车棚场地，正在询价。"),)),
    Motion("M11", "rep2", "关于规范职工休息室管理的提案",
           "部分车间职工休息室被挪作仓库，夜班职工无处休息。",
           "建议清理被占用的休息室，明确管理责任部门，配齐桌椅和饮水设施。", ("ago", 20), stop="handling",
           deadline_days=8, progress=((3, "已开展各车间休息室使用情况摸排。"),),
           slip_answer=(10, "已清理被占用的休息室4间，桌椅和饮水设施正在采购，12个工作日内完成并书面答复。")),
]


# Handlers of the co-handling departments (username, name, employee no, phone, department), who join the
# demo union with its history; the lead department's handler of each department gives its steps.
CO_HANDLERS = [("handler2", "曹丽", "E1702", "13800001702", "LOG"),
               ("handler3", "彭志刚", "E1703", "13800001703", "HR")]
HANDLER_OF = {"TECH": "handler1", "LOG": "handler2", "HR": "handler3"}


# -- the rest of the union's year --------------------------------------------------------------

# The aid fund's income besides the opening balance: ((month offset, day), fen, source, note).
INCOMES = (((5, 10), 2000000, "government", "财政帮扶补助（第二批）"),
           ((7, 1), 860000, "donation", "“金秋助学”专项捐款"))


@dataclass(frozen=True)
class Report:
    """An anonymous report (举报) of undisclosed aid, checked and answered by staff."""
    at: tuple  # (month offset, day, "hh:mm")
    text: str
    answered: tuple  # (working days later, "hh:mm")
    answered_by: str
    answer: str


@dataclass(frozen=True)
class Correction:
    """A worker's request to correct their data (我的数据), answered by union staff."""
    asked_by: str
    text: str
    answered_by: str
    answer: str


CORRECTION = Correction("worker1", "我家的住址已变更为示范市建设路18号3单元502室，请更新我的登记信息。", "staff1",
                        "已按您提供的新住址更新登记信息，原住址不再使用。")


REPORT = Report((7, 20, "21:15"), "反映二车间有职工家中经营门市，收入较高，却领取过困难补助，请工会核查。",
                (3, "16:00"), "staff1",
                "经核查，所反映的职工近年未申领困难帮扶资金，所反映情况与事实不符。感谢您对工会工作的监督。")


# -- the year's upward reports (年度上报) -------------------------------------------------------------

UPWARD_SUMMARIES = (
    "配件分厂工会本年度受理困难职工救助申请，开展节日走访慰问，按时办结率达到要求。",
    "配件分厂工会本年度受理困难职工救助申请，开展节日走访慰问，按时办结率达到要求。"
    "经核对走访台账，全年走访人次与系统统计一致，补充说明见附表。",
    "机关分会本年度收集合理化建议并跟踪落实，职代会提案按期答复，困难职工帮扶工作按计划完成。",
)
UPWARD_RETURN = "请补充全年走访台账的核对情况后重新报送。"
