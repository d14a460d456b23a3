"""The report's execution engine, apart from publication: how notebooks are run.

* `runner`      one notebook through papermill on the project's kernel; progress lines
* `pool`        the workers, `jobs` at a time, each with its kernel started as the run begins
* `warm_kernels`, `kernel_state`  a worker's kernel kept between notebooks, put back as fresh before each
* `schedule`    the order notebooks start in: longest first, by their last timings (seconds)
"""
