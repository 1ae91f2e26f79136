"""Runs a command in a pseudo-terminal and plays a script of keys against its screen.

Usage: python3 pty-run.py '<json>' where json is
  {"argv": [...], "env": {...}, "cols": 120, "rows": 40,
   "steps": [{"expect": "regex", "timeout": 20}, {"send": "text"}, ...]}
An "expect" waits until the regex matches the output received since the previous expect
(ANSI sequences removed). Prints the whole transcript (ANSI removed) on stdout; exits 0
when every step passed and the command ended by itself (status in the last line,
'exit N'), 3 when an expect timed out, 4 when the command did not end in time.
The child is killed on the way out, whatever happened.
"""
import json, os, pty, re, select, signal, struct, sys, time, fcntl, termios

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][0-9A-Za-z]|\x1b[=>]")


def main():
    spec = json.loads(sys.argv[1])
    pid, fd = pty.fork()
    if pid == 0:
        env = dict(os.environ)
        env.update(spec.get("env", {}))
        env["TERM"] = "xterm"
        os.execvpe(spec["argv"][0], spec["argv"], env)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", spec.get("rows", 40), spec.get("cols", 120), 0, 0))
    transcript = ""
    window = ""

    def read(timeout):
        nonlocal transcript, window
        ready, _, _ = select.select([fd], [], [], timeout)
        if not ready:
            return True
        try:
            data = os.read(fd, 65536)
        except OSError:
            return False
        if not data:
            return False
        text = ANSI.sub("", data.decode("utf-8", "replace")).replace("\r", "")
        transcript += text
        window += text
        return True

    status = 0
    try:
        for step in spec["steps"]:
            if "send" in step:
                os.write(fd, step["send"].encode())
                continue
            pattern = re.compile(step["expect"], re.M)
            deadline = time.time() + step.get("timeout", 20)
            while not pattern.search(window):
                if time.time() > deadline:
                    sys.stdout.write(transcript + "\nEXPECT TIMEOUT: " + step["expect"] + "\n")
                    status = 3
                    return status
                if not read(0.2):
                    if not pattern.search(window):
                        sys.stdout.write(transcript + "\nEOF before: " + step["expect"] + "\n")
                        status = 3
                        return status
            window = window[pattern.search(window).end():]
        deadline = time.time() + spec.get("exitTimeout", 20)
        while time.time() < deadline:
            done, code = os.waitpid(pid, os.WNOHANG)
            if done:
                while read(0.05):
                    if not select.select([fd], [], [], 0)[0]:
                        break
                sys.stdout.write(transcript + "\nexit %d\n" % (os.WEXITSTATUS(code) if os.WIFEXITED(code) else 128 + os.WTERMSIG(code)))
                pid = 0
                return 0
            read(0.2)
        sys.stdout.write(transcript + "\nDID NOT EXIT\n")
        status = 4
        return status
    finally:
        if pid:
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except OSError:
                pass


sys.exit(main())
