import random, sqlite3, sys
random.seed(2)
W = "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee zulu".split()
db = sqlite3.connect(":memory:")
db.execute("pragma cache_size=-400000")
db.execute("create table orders (id integer primary key, customer text, item text, qty integer, price real, note text, ts integer)")
db.execute("create index by_customer on orders(customer)")
n = int(sys.argv[1]) if len(sys.argv) > 1 else 1500000
rows = ((i, "cust-%05d" % random.randint(0, 50000), random.choice(W) + "-" + random.choice(W), random.randint(1, 20),
         round(random.random() * 500, 2), " ".join(random.choice(W) for _ in range(random.randint(0, 8))),
         1700000000 + i * 7) for i in range(n))
db.executemany("insert into orders values (?,?,?,?,?,?,?)", rows)
db.commit()
print("ready", flush=True)
sys.stdin.read()
