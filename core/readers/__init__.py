"""One reader per kind of source; each returns a :class:`core.datasets.DatasetHandle`.

- ``digits``: scikit-learn's bundled 8×8 digits (offline).
- ``torchvision_builtin``: MNIST, Fashion-MNIST, KMNIST, CIFAR-10/100, SVHN, USPS through torchvision.
- ``download``: fetching their files with progress, atomically.
- ``idx``: raw IDX files.
- ``table``: a CSV table with a label column.
- ``image_folder``: a folder of images in class sub-folders.
"""
