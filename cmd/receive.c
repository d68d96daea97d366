/* SPDX-License-Identifier: MIT */
/* sdump receive: accept one migration, its passes as a chain, and bring the process up. */
#include <stdio.h>
#include <stdlib.h>

#include "sdump.h"
#include "cmd.h"

static const char usage[] =
	"usage: sdump receive -D <dir> --listen <addr:port> [--restore [--lazy] [-d] [-j]]\n"
	"                     [--tls-cert <file> --tls-key <file> --tls-ca <file> | --insecure]\n"
	"                     [-v|-q] [-o <file>]\n"
	"\n"
	"Accept one migration from 'sdump migrate': every pass it sends is\n"
	"written into DIR/1, DIR/2, ... as an ordinary chain, each one verified\n"
	"before it is committed. With --restore the process is brought up from\n"
	"the last pass once the sender lets go of its copy; without -d this\n"
	"command stays its parent and exits with its exit status. Any failure\n"
	"before it runs removes the process and every pass received.\n"
	"\n"
	"  -D, --images-dir DIR    where the passes go (created, or an empty directory)\n"
	"      --listen ADDR:PORT  the address to accept the sender on\n"
	"      --restore           bring the process up at the end (as sdump restore)\n"
	"      --lazy              with --restore: post-copy: the process runs as soon\n"
	"                          as its state is here, its memory fetched from the\n"
	"                          sender as it needs it while the sender pushes the\n"
	"                          rest. Less downtime, less safety: if the connection\n"
	"                          dies before every page arrived, the process is\n"
	"                          killed and the sender resumes its copy\n"
	"  -d, --restore-detached  with --restore: return once it runs (with --lazy,\n"
	"                          a helper, sdump-lazy, fetches its memory, says on\n"
	"                          stderr if the connection died first, and exits)\n"
	"  -j, --shell-job         with --restore: join this shell's session, its\n"
	"                          terminal standing in for the process's (as restore -j)\n"
	"      --tls-cert FILE     our certificate (PEM), signed by the sender's CA\n"
	"      --tls-key FILE      its private key\n"
	"      --tls-ca FILE       the CA a sender's certificate must be signed by\n"
	"      --insecure          without TLS, listen on an address that is not\n"
	"                          loopback all the same\n"
	"  -v, -q, -o FILE         more (-v: each pass), fewer messages; messages to FILE\n"
	"\n"
	"Exit status: the process's with --restore and without -d, else 0; 1 an\n"
	"error (one line 'sdump: ...'), 2 a usage error.\n";

int cmd_receive(int argc, char **argv)
{
	enum { OPT_LISTEN = 0x2000, OPT_RESTORE, OPT_INSECURE, OPT_LAZY };
	static const struct option longopts[] = {
		{ "images-dir", required_argument, NULL, 'D' },
		{ "listen", required_argument, NULL, OPT_LISTEN },
		{ "restore", no_argument, NULL, OPT_RESTORE },
		{ "lazy", no_argument, NULL, OPT_LAZY },
		{ "restore-detached", no_argument, NULL, 'd' },
		{ "shell-job", no_argument, NULL, 'j' },
		CLI_TLS_LONGOPTS,
		{ "insecure", no_argument, NULL, OPT_INSECURE },
		CLI_COMMON_LONGOPTS,
		{},
	};
	struct sdump_receive_opts o = { 0 };
	struct sdump_ctx *ctx;
	int opt, r, status = 0;

	while ((opt = getopt_long(argc, argv, ":D:djv::qo:h", longopts, NULL)) != -1) {
		if (cli_common_option(opt, optarg) || cli_tls_option(opt, optarg, &o.tls))
			continue;
		switch (opt) {
		case 'D':
			o.dir = optarg;
			break;
		case OPT_LISTEN:
			o.listen = optarg;
			break;
		case OPT_RESTORE:
			o.restore = true;
			break;
		case OPT_LAZY:
			o.lazy = true;
			break;
		case 'd':
			o.detach = true;
			break;
		case 'j':
			o.shell_job = true;
			break;
		case OPT_INSECURE:
			o.insecure = true;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			return cli_bad_option("receive", opt, argv);
		}
	}
	if (optind < argc)
		return cli_usage_error("receive", "unexpected argument '%s'", argv[optind]);
	if (!o.dir)
		return cli_usage_error("receive", "no image directory given: -D <dir>");
	if (!o.listen)
		return cli_usage_error("receive", "no address given: --listen <addr:port>");
	if ((o.detach || o.shell_job || o.lazy) && !o.restore)
		return cli_usage_error("receive", "%s is for --restore",
				       o.detach ? "-d" : o.lazy ? "--lazy" : "--shell-job");
	if (cli_tls_check("receive", &o.tls))
		return 2;
	if (o.insecure && o.tls.ca)
		return cli_usage_error("receive", "--insecure is for a receiver without TLS");
	ctx = cli_ctx_new();
	if (!ctx)
		return 1;
	r = sdump_receive(ctx, &o, &status);
	if (r < 0)
		return cli_fail(ctx, r);
	cli_ctx_free(ctx);
	return status;
}
