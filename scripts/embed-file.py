#!/usr/bin/env python3
"""embed-file.py INPUT OUTPUT SYMBOL: write a C file defining `const char SYMBOL[]` (NUL-terminated),
`const unsigned long SYMBOL_len` and `const char SYMBOL_sha256[]` (the lowercase hex digest, so a launch
does not hash a constant), so hutch does not depend on where its data files are installed."""
import hashlib
import sys

src, out, sym = sys.argv[1:4]
data = open(src, 'rb').read()
with open(out, 'w') as f:
    f.write('/* generated from %s by scripts/embed-file.py */\n' % src.split('/')[-1])
    f.write('extern const char %s[];\nextern const unsigned long %s_len;\nextern const char %s_sha256[];\n'
            % (sym, sym, sym))
    f.write('const char %s[] = {\n' % sym)
    for i in range(0, len(data), 16):
        f.write('  ' + ', '.join('0x%02x' % b for b in data[i:i + 16]) + ',\n')
    f.write('  0x00\n};\n')
    f.write('const unsigned long %s_len = %d;\n' % (sym, len(data)))
    f.write('const char %s_sha256[] = "%s";\n' % (sym, hashlib.sha256(data).hexdigest()))
