import random, sys
random.seed(1)
W = "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee zulu".split()
CITIES = ["Berlin", "Paris", "Lisbon", "Oslo", "Rome", "Madrid", "Vienna", "Prague", "Dublin", "Athens"]
users = {}
for i in range(int(sys.argv[1]) if len(sys.argv) > 1 else 1200000):
    name = "%s %s" % (random.choice(W).title(), random.choice(W).title())
    users["user:%d" % i] = {
        "id": i, "name": name, "email": "%s.%d@example.com" % (name.lower().replace(" ", "."), i),
        "age": random.randint(18, 90), "score": random.random() * 100, "city": random.choice(CITIES),
        "tags": [random.choice(W) for _ in range(random.randint(0, 4))],
        "visits": [random.randint(0, 10**6) for _ in range(random.randint(0, 6))],
    }
print("ready", flush=True)
sys.stdin.read()
