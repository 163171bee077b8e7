"""The command line's shared options: the store, the metric, a user model's options,
and where the layers are ordered (this process, a Dask cluster, a LocalCluster)."""

from __future__ import annotations

import logging
import sys
from contextlib import contextmanager, nullcontext
from pathlib import Path

import click

from fracdash.core.metrics import METRIC_TABLE, METRICS
from fracdash.errors import FracdashError, command_line_message
from fracdash.store import default_store_dir

METRIC_HELP = "How two samples' activations at a layer are compared: " + "; ".join(
    f"{m.name}: {m.summary}" for m in METRIC_TABLE
)  # one table: fracdash.core.metrics



def _fail(ctx, message: str, err: BaseException | None = None):
    """One line on stderr, exit code 2 (the traceback with ``--debug``); a message's
    words for Python callers (``(Python: logits=True)``) are left out."""
    if ctx.obj["debug"] and err is not None:
        raise err
    click.echo(f"fracdash: error: {command_line_message(message)}", err=True)
    sys.exit(2)


def _cache_option(fn):
    return click.option(
        "--store",
        "--cache-dir",
        "cache_dir",
        type=click.Path(file_okay=False, path_type=Path),
        help="The store (default: $FRACDASH_STORE or ~/.cache/fracdash); --cache-dir is "
        "its older name.",
    )(fn)


def _cluster_options(fn):
    """--scheduler, --workers and --shared-dir: where the layers are ordered."""
    options = [
        click.option("--scheduler", envvar="FRACDASH_SCHEDULER", metavar="ADDRESS",
                     help="Order the layers on this Dask cluster (tcp://HOST:8786, or "
                     "$FRACDASH_SCHEDULER); needs fracdash[cluster]."),
        click.option("--workers", type=click.IntRange(min=1),
                     help="Order the layers on a Dask LocalCluster of N processes."),
        click.option("--shared-dir", envvar="FRACDASH_SHARED_DIR", type=click.Path(),
                     help="A folder this machine and every Dask worker see, for layers "
                     "over 4 MB (default: the store's)."),
    ]  # fmt: skip
    for option in reversed(options):
        fn = option(fn)
    return fn


@contextmanager
def _orderer(ctx, store, scheduler, workers, shared_dir):
    """This process, a Dask cluster or a LocalCluster orders the layers in the block.
    dask's own log lines (reconnecting...) are silenced: an error is one line."""
    if scheduler is None and workers is None:  # this process (fracdash.cluster loads numba)
        yield
        return
    from fracdash.cluster import cluster_orderer, use_orderer

    if not ctx.obj["debug"]:
        logging.getLogger("distributed").setLevel(logging.CRITICAL)
    try:
        orderer = cluster_orderer(scheduler, workers, shared_dir or store or default_store_dir())
    except FracdashError as err:
        _fail(ctx, str(err), err)
    with orderer or nullcontext(), use_orderer(orderer):
        yield


def _metric_option(fn):
    return click.option(
        "--metric", type=click.Choice(METRICS), default=METRICS[0], show_default=True,
        help=METRIC_HELP,
    )(fn)  # fmt: skip


def _user_options(required: bool):
    """--model, --data and the options of a user model's analysis (see the README's
    "Your own model" for the rules)."""
    path = click.Path(path_type=Path)
    options = [
        click.option("--model", "model_path", type=path, required=required,
                     help="A model file: Keras (.keras or .h5, loaded in safe mode) or "
                     "ONNX (.onnx). PyTorch: export it to ONNX first (README)."),
        click.option("--data", "data_path", type=path, required=required,
                     help="Test set: .npz (x, y), IDX images file or folder, or a folder "
                     "of images with one subfolder per class."),
        click.option("--class-names", type=path,
                     help="Text file, one class name per line, in the model's index "
                     "order; image subfolders are matched to these names."),
        click.option("--class-groups", type=path,
                     help="Beyond 20 classes: groups of classes (superclasses), a line "
                     "'group: class, class, ...' each, or a JSON object of lists; each "
                     "group is colored in a family of one hue (default: groups of classes "
                     "the model confuses)."),
        click.option("--samples", type=click.IntRange(min=2),
                     help="Use N samples: a seeded stratified sample (all classes kept)."),
        click.option("--first", is_flag=True,
                     help="With --samples: take the first N samples instead."),
        click.option("--split", type=click.Choice(["test", "train"]), default="test",
                     show_default=True, help="Which split of a folder of the four "
                     "official IDX files."),
        click.option("--scale", help="Multiply x by this before the model (e.g. 1/255 for "
                     "a model trained on [0, 1]); by default x is passed as it is."),
        click.option("--mean", metavar="M[,M,M]", help="Then subtract this, one value or "
                     "one per channel (torchvision's Normalize: (x * scale - mean) / std)."),
        click.option("--std", metavar="S[,S,S]", help="Then divide by this, one value or "
                     "one per channel."),
        click.option("--output", metavar="NAME|INDEX", help="Of a model with several "
                     "outputs, the classifier's (its name, or its index from 0)."),
        click.option("--logits", is_flag=True,
                     help="The model ends in logits: accept them (softmax is monotone, "
                     "the predictions and the layers shown are unchanged)."),
        click.option("--no-measures", is_flag=True,
                     help="Skip each layer's kNN accuracy, hubness and trustworthiness "
                     "(about 1.5-3x its ordering time; the quality is always computed)."),
        click.option("--keep-labels", is_flag=True,
                     help="Keep labels that look permuted against the model's classes "
                     "(refused otherwise, with the order found)."),
        click.option("--name", help="Run name in the dashboard (default: the model "
                     "file's stem)."),
        click.option("--replace", is_flag=True, help="Overwrite a stored run of that name."),
        _metric_option,
    ]  # fmt: skip

    def decorate(fn):
        for option in reversed(options):
            fn = option(fn)
        return fn

    return decorate


def _versus_options(fn):
    """``--versus B`` and ``--pair A:B`` of ``fracdash export``: a comparison's export."""
    fn = click.option(
        "--pair",
        "pairs",
        multiple=True,
        metavar="A:B",
        help="With --versus: pair layer A of RUN with layer B of the other run (repeat "
        "it); by default by name, else by relative depth.",
    )(fn)
    return click.option(
        "--versus",
        metavar="RUN_B",
        help="Export RUN compared with stored run RUN_B of the same samples: both graphs "
        "side by side in the PNG and HTML, the comparison's tables as --data.",
    )(fn)


def _marking_options(fn):
    """``--coloring`` and ``--select`` of ``fracdash export``: what its PNG and HTML draw
    over the glyphs (:mod:`fracdash.export.selection`)."""
    fn = click.option(
        "--select",
        metavar="SPEC",
        help="Draw a selection as the page does, the other samples faded; SPEC as the "
        "page's link writes it (sel=): wrong, cell:T-P, brush:LAYER:X0,Y0,X1,Y1, and with "
        "--versus diff, moved or brush-b:LAYER:X0,Y0,X1,Y1.",
    )(fn)
    return click.option(
        "--coloring",
        type=click.Choice(["absolute", "relative", "correctness"]),
        default="absolute",
        show_default=True,
        help="The PNG's glyph coloring (the HTML has a switch); correctness (with --versus): "
        "both right, only A right, only B right, both wrong, in the PNG and the HTML.",
    )(fn)
