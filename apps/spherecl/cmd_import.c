/* spherecl import / export: the published SphereFace models (Caffe, PyTorch) in and out of spherecl's
   model files. One file, as the two are each other's inverse and share the option handling. */
#include "cli_common.h"
#include "cli_faces.h"
#include "commands.h"

#include <stdio.h>
#include <string.h>

static void import_usage(FILE *f) {
  fprintf(f,
          "usage: spherecl import (--caffe FILE | --pytorch FILE) --out MODEL [--size WxH] [--order bgr|rgb]\n"
          "                       [--device SELECTOR]\n"
          "Writes a spherecl model file from a published SphereFace model: the authors' Caffe model\n"
          "(sphereface_model.caffemodel, read without Caffe) or the PyTorch port's state_dict\n"
          "(sphere20a_20171020.pth, read without Python). Depth, widths,\n"
          "embedding size and classes come from the file; the model records its input convention so that\n"
          "embed, verify and compare preprocess as it expects: 96x112 crops aligned to the reference\n"
          "landmarks (`spherecl align`), channels in BGR order, (p - 127.5)/128.\n"
          "  --caffe FILE       a binary .caffemodel (NetParameter; old V1 layer files too)\n"
          "  --pytorch FILE     a state_dict saved by torch.save: the legacy format (torch 0.2 on) or the zip\n"
          "                     format (torch >= 1.6's default)\n"
          "  --out MODEL        the spherecl model file to write (atomically)\n"
          "  --size WxH         the input the model was trained on (default 96x112)\n"
          "  --order bgr|rgb    its channel order (default bgr, as both published models)\n"
          "  --device SELECTOR  OpenCL device used to build the net (see `spherecl devices`)\n");
}

static void export_usage(FILE *f) {
  fprintf(f,
          "usage: spherecl export --model MODEL --pytorch FILE [--device SELECTOR]\n"
          "Writes a spherecl model as a PyTorch state_dict in the PyTorch port's layout (conv1_1.weight, ...,\n"
          "fc5.weight, fc6.weight as [D, classes]), in torch.save's legacy format: torch.load(FILE) then\n"
          "load_state_dict into the port's sphere20a (or its deeper siblings). Every conv gets a bias (zeros\n"
          "where the model has none). Input convention of the port: BGR, (p - 127.5)/128.\n");
}

int cmd_import(int argc, char **argv) {
  const char *caffe = NULL, *pytorch = NULL, *out = NULL, *size_s = NULL, *order_s = NULL, *device = NULL;
  int npos = 0;
  const cli_option opts[] = {{"--caffe", &caffe, NULL},     {"--pytorch", &pytorch, NULL}, {"--out", &out, NULL},
                             {"--size", &size_s, NULL},     {"--order", &order_s, NULL},   {"--device", &device, NULL},
                             {NULL, NULL, NULL}};
  int rc = cli_parse_options("import", argc, argv, opts, import_usage, &npos);
  if (rc != CLI_PARSED) return rc;
  if (npos) return cli_usage_error("import", import_usage, "unexpected argument \"%s\"", argv[0]);
  if (!caffe == !pytorch) return cli_usage_error("import", import_usage, "give one of --caffe FILE and --pytorch FILE");
  if (!out) return cli_usage_error("import", import_usage, "--out is required");
  scl_import_options opt;
  scl_import_options_default(&opt);
  if (size_s && !cli_parse_size(size_s, &opt.in_width, &opt.in_height))
    return cli_usage_error("import", import_usage, "--size must be WxH, got \"%s\"", size_s);
  if (order_s && strcmp(order_s, "bgr") && strcmp(order_s, "rgb"))
    return cli_usage_error("import", import_usage, "--order must be bgr or rgb, got \"%s\"", order_s);
  if (order_s) opt.input.order = !strcmp(order_s, "rgb") ? SCL_CHANNELS_RGB : SCL_CHANNELS_BGR;

  scl_context ctx = cli_context("import", device);
  if (!ctx) return 1;
  scl_net net = NULL;
  const char *in = caffe ? caffe : pytorch;
  scl_status st = scl_net_import(ctx, caffe ? SCL_MODEL_CAFFE : SCL_MODEL_PYTORCH, in, &opt, &net);
  if (st == SCL_OK) st = scl_net_save(net, out, 0);
  if (st != SCL_OK) {
    cli_report("import", ctx, st);
  } else {
    const scl_net_config *c = scl_net_get_config(net);
    printf("imported %s: SphereFace-%d, widths %d/%d/%d/%d, %d-d embedding, %d classes%s, %s input %dx%d%s\n", in,
           c->depth, c->widths[0], c->widths[1], c->widths[2], c->widths[3], c->embed_dim, c->num_classes,
           c->unit_bias ? ", residual-unit conv biases" : "", c->input.order == SCL_CHANNELS_BGR ? "BGR" : "RGB",
           c->in_width, c->in_height,
           c->num_classes == 2 ? " (no fc6 in the file: 2 placeholder classes; it embeds, it cannot classify)" : "");
    printf("wrote %s\n", out);
  }
  scl_net_release(net);
  scl_context_release(ctx);
  return st == SCL_OK ? 0 : 1;
}

int cmd_export(int argc, char **argv) {
  const char *model = NULL, *pytorch = NULL, *device = NULL;
  int npos = 0;
  const cli_option opts[] = {
      {"--model", &model, NULL}, {"--pytorch", &pytorch, NULL}, {"--device", &device, NULL}, {NULL, NULL, NULL}};
  int rc = cli_parse_options("export", argc, argv, opts, export_usage, &npos);
  if (rc != CLI_PARSED) return rc;
  if (npos) return cli_usage_error("export", export_usage, "unexpected argument \"%s\"", argv[0]);
  if (!model || !pytorch) return cli_usage_error("export", export_usage, "--model and --pytorch are required");
  scl_context ctx;
  scl_net net;
  if (cli_open_model("export", device, model, &ctx, &net)) return 1;
  scl_status st = scl_net_export(net, SCL_MODEL_PYTORCH, pytorch);
  if (st != SCL_OK)
    cli_report("export", ctx, st);
  else
    printf("wrote %s (PyTorch state_dict, legacy torch.save format)\n", pytorch);
  cli_close_model(ctx, net);
  return st == SCL_OK ? 0 : 1;
}
