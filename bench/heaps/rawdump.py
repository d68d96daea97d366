# rawdump.py PID OUT: the non-zero pages of PID's private writable memory, concatenated
import sys
pid, out = int(sys.argv[1]), sys.argv[2]
Z = bytes(4096)
n = z = 0
with open("/proc/%d/maps" % pid) as m, open("/proc/%d/mem" % pid, "rb", 0) as mem, open(out, "wb") as o:
    for line in m:
        f = line.split()
        lo, hi = (int(x, 16) for x in f[0].split("-"))
        if f[1][1] != "w" or f[1][3] != "p" or (len(f) > 5 and f[5] in ("[vvar]", "[vsyscall]", "[vdso]")):
            continue
        a = lo
        while a < hi:
            ln = min(hi - a, 1 << 20)
            try:
                mem.seek(a); b = mem.read(ln)
            except OSError:
                b = b""
            for i in range(0, len(b), 4096):
                p = b[i:i + 4096]
                if p == Z: z += 1
                else: o.write(p); n += 1
            a += ln
print(n, z)
