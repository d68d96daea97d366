let seed = 4; function rnd() { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed / 0x7fffffff; }
const W = "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee zulu".split(" ");
const pick = a => a[Math.floor(rnd() * a.length)];
const n = +(process.argv[2] || 1200000), users = new Map();
for (let i = 0; i < n; i++) {
  const name = pick(W) + " " + pick(W);
  users.set("user:" + i, { id: i, name, email: name.replace(" ", ".") + "." + i + "@example.com", age: 18 + Math.floor(rnd() * 72),
    score: rnd() * 100, tags: Array.from({ length: Math.floor(rnd() * 5) }, () => pick(W)) });
}
console.log("ready");
process.stdin.on("data", () => {}); process.stdin.resume();
