import './base.css';
import './magic.css';
