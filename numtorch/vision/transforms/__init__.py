"""Image transforms for PIL images and numtorch tensor images, as ``torchvision.transforms``.

``transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])`` works as
in torchvision; ``transforms.functional`` holds the function forms.
"""
from . import functional
from .functional import InterpolationMode
from .transforms import (
    CenterCrop, ColorJitter, Compose, ConvertImageDtype, Grayscale, Lambda, Normalize, Pad,
    PILToTensor, RandomAffine, RandomApply, RandomChoice, RandomCrop, RandomErasing,
    RandomGrayscale, RandomHorizontalFlip, RandomOrder, RandomResizedCrop, RandomRotation,
    RandomVerticalFlip, Resize, ToPILImage, ToTensor,
)

__all__ = ["CenterCrop", "ColorJitter", "Compose", "ConvertImageDtype", "Grayscale",
           "InterpolationMode", "Lambda", "Normalize", "Pad", "PILToTensor", "RandomAffine",
           "RandomApply", "RandomChoice", "RandomCrop", "RandomErasing", "RandomGrayscale",
           "RandomHorizontalFlip", "RandomOrder", "RandomResizedCrop", "RandomRotation",
           "RandomVerticalFlip", "Resize", "ToPILImage", "ToTensor", "functional"]
