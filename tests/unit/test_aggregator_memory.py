"""The aggregator's tables open their RocksDB partitions with bounded buffers and caches, not
Faust's defaults (three 64 MiB write buffers and a 2 GiB block cache per partition), under which
the hour-long soak saw the worker's memory grow by 345 MB."""

from cairn.settings import Settings
from services.aggregator.app import MiB, build


def test_each_table_partition_has_bounded_rocksdb_sizes(tmp_path):
    worker = build(Settings(var_dir=tmp_path))
    for table, most in ((worker.progress_table, 4 * MiB), (worker.processed_table, MiB)):
        options = table.data.rocksdb_options
        assert options.write_buffer_size * options.max_write_buffer_number <= 2 * most, table.name
        assert options.block_cache_size <= most, table.name
