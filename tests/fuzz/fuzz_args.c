/* libFuzzer target: the programs' option parsing (examples/args.c), which
 * must return a status and a message for any argv, never exit, and leave
 * only in-range values when it accepts. Input: a byte choosing the
 * program, then its arguments separated by NUL bytes. The accepted or
 * rejected arguments also go through the JSON string writer, whose output
 * must hold no raw control character. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../examples/args.c"

const char *cli_program = "fuzz_args";

#define MAX_ARGS 64

static void require(int ok)
{
    if (!ok)
        __builtin_trap();
}

static void check_json(const char *s)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return;
    cli_json j;
    json_open(&j, f);
    json_text(&j, s, s);
    json_number(&j, "x", "%.6f", strtod(s, NULL));
    json_close(&j);
    fclose(f);
    for (size_t i = 0; i + 1 < len; i++)
        require((unsigned char)buf[i] >= 0x20);
    require(len > 0 && buf[len - 1] == '\n');
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 1 << 16)
        return 0;
    static const char *const names[] = {"dgn-train", "dgn-eval", "dgn-screen", "dgn-paper"};
    int prog = data[0] % 4;
    char *text = malloc(size); /* the arguments, NUL-terminated */
    if (!text)
        return 0;
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    char *argv[MAX_ARGS + 1];
    int argc = 0;
    argv[argc++] = (char *)names[prog];
    for (size_t i = 0; i < size - 1 && argc < MAX_ARGS; i += strlen(text + i) + 1)
        argv[argc++] = text + i;
    argv[argc] = NULL;

    cli_args p;
    cli_args_init(&p, argc, argv);
    int r = CLI_BAD;
    if (prog == 0) {
        train_options o;
        r = train_parse(&o, &p);
        if (r == CLI_RUN) {
            require(o.data_path && o.out && o.data.lo <= o.data.hi);
            require(o.train.batch >= 1 && o.train.batch <= CLI_MAX_BATCH);
            require(o.model.max_batch == 3 * o.train.batch);
            require(o.threads >= 1 && o.threads <= CLI_MAX_THREADS);
            cli_args q;
            cli_args_init(&q, argc, argv);
            int m = train_check_model(&o, &q, 1 + data[0] / 4 % 3);
            require(m == CLI_RUN || (m == CLI_BAD && q.msg[0]));
        }
    } else if (prog == 1) {
        eval_options o;
        r = eval_parse(&o, &p);
        if (r == CLI_RUN)
            require(o.model_path && o.data_path && o.k >= 1);
    } else if (prog == 2) {
        screen_options o;
        r = screen_parse(&o, &p);
        if (r == CLI_RUN)
            require(o.model_path && !o.grid != !o.candidates &&
                    o.screen.shard_index < o.screen.shard_count &&
                    o.screen.top_k >= 1 && o.screen.threads >= 1);
    } else {
        paper_options o;
        r = paper_parse(&o, &p);
        if (r == CLI_RUN)
            require(o.data_path && o.epochs <= CLI_MAX_EPOCHS && o.property[0] &&
                    o.split_seeds >= 1 && o.net_seeds >= 1 && o.threads >= 1);
    }
    require(r == CLI_RUN || r == CLI_HELP || r == CLI_BAD);
    size_t n = strnlen(p.msg, sizeof p.msg);
    require(n < sizeof p.msg && (r != CLI_BAD || n > 0));
    check_json(p.msg);
    for (int i = 1; i < argc; i++)
        check_json(argv[i]);
    free(text);
    return 0;
}
