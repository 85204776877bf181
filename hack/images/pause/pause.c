// The pod sandbox process of the real-node edge cluster (docs/real-node.md): it holds the pod's namespaces, reaps
// the orphans it inherits as PID 1, and exits at once on SIGTERM or SIGINT. Built static, so the image is this file.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

static void stop(int sig) {
	(void)sig;
	_exit(0);
}

static void reap(int sig) {
	(void)sig;
	while (waitpid(-1, 0, WNOHANG) > 0) {
	}
}

int main(void) {
	struct sigaction on_stop = {.sa_handler = stop};
	struct sigaction on_child = {.sa_handler = reap, .sa_flags = SA_NOCLDSTOP | SA_RESTART};
	sigaction(SIGTERM, &on_stop, 0);
	sigaction(SIGINT, &on_stop, 0);
	sigaction(SIGCHLD, &on_child, 0);
	for (;;) pause();
}
