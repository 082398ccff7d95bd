#!/usr/bin/env python3
"""Run a command on a pseudo-terminal and answer its prompts:
    pty_answer.py PROMPT ANSWER [PROMPT ANSWER ...] -- COMMAND...
Each answer is typed only after its prompt appeared, as a person would, so what the
terminal echoes is the command's doing alone. Prints what the terminal showed and exits
with the command's status (124 when a prompt did not come within 30 s)."""
import os, pty, select, sys, time

args = sys.argv[1:]
sep = args.index("--")
pairs, cmd = args[:sep], args[sep + 1:]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(cmd[0], cmd)
seen, pos = b"", 0
deadline = time.time() + 30

def read_some():
    global seen
    if not select.select([fd], [], [], 0.2)[0]:
        return True
    try:
        data = os.read(fd, 4096)
    except OSError:  # the command ended and the terminal closed
        return False
    seen += data
    return bool(data)

for prompt, answer in zip(pairs[0::2], pairs[1::2]):
    while seen.find(prompt.encode(), pos) < 0:
        if time.time() > deadline or not read_some():
            sys.stdout.write(seen.decode(errors="replace"))
            os.kill(pid, 9)
            sys.exit(124)
    pos = seen.find(prompt.encode(), pos) + len(prompt)
    os.write(fd, answer.encode() + b"\n")
while time.time() < deadline and read_some():
    pass
_, status = os.waitpid(pid, 0)
sys.stdout.write(seen.decode(errors="replace"))
sys.exit(os.waitstatus_to_exitcode(status))
